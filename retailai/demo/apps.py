from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The bundled demo: sample data, generated master data and one user per role."""

    name = "retailai.demo"
    label = "demo"
    verbose_name = "Demo"
