"""Settings package: base, local (embedded default), production, test."""
