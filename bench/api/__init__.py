"""A bench-only Django project layer: the product's settings and URLs plus a no-op endpoint to compare against."""
