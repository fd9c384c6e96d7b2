from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "trackrev.outbox"
    label = "outbox"
    verbose_name = "Outbox"
