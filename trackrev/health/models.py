from django.db import models


class Heartbeat(models.Model):
    """When a named periodic job last ran in a worker; proves beat, broker and worker all work."""

    name = models.CharField(max_length=64, unique=True)
    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_run_at:%Y-%m-%d %H:%M:%S}"
