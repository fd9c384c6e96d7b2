from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A consumer (a Celery task name) still to be told about a subject (an order, a workspace, a run id),
    written in the same transaction as the change it announces, so a broker outage delays it but never
    loses it. At most one row per (consumer, subject): a newer change rewrites the row, and a delivery
    removes it only if nothing rewrote it while the consumer ran (`version`)."""

    task = models.CharField(max_length=100)
    subject_id = models.BigIntegerField()
    # A new random value at every write: a delivery deletes the row only at the version it delivered.
    version = models.BigIntegerField()
    # When the sweeper sends it (again) unless it was delivered by then; null once it gave up.
    due_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text=_("Failed deliveries since the last change."))
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "subject_id"], name="notification_unique_subject")]
        indexes = [models.Index(fields=["due_at"], name="notification_due_idx")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.task}({self.subject_id})"
