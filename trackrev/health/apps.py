from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "trackrev.health"
    label = "health"
    verbose_name = "Health"
