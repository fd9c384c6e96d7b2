"""The Celery app. Each app declares its periodic jobs in its own `schedules.py`; they are merged here
by name, and django-celery-beat's DatabaseScheduler upserts them (it never deletes rows on deploy)."""

import importlib
import os

from celery import Celery, platforms
from celery.signals import beat_embedded_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trackrev.settings.base")

SCHEDULE_MODULES = (
    "trackrev.health.schedules",
    "trackrev.outbox.schedules",
    "trackrev.workspaces.schedules",
    "integrations.schedules",
    "attribution.schedules",
    "affiliates.schedules",
)


def collect_schedules(modules=SCHEDULE_MODULES) -> dict:
    merged: dict = {}
    for dotted in modules:
        schedule = importlib.import_module(dotted).SCHEDULE
        clashes = merged.keys() & schedule.keys()
        if clashes:
            raise ValueError(f"beat schedule names declared twice: {sorted(clashes)}")
        merged.update(schedule)
    return merged


app = Celery("trackrev")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = collect_schedules()
app.autodiscover_tasks()


@beat_embedded_init.connect
def _die_with_the_worker(**kwargs) -> None:
    """Beat embedded in a worker (`worker --beat`) is a child process that would outlive a killed worker
    and go on sending, next to the beat of the worker started again in its place. (A no-op but on Linux.)"""
    platforms.set_pdeathsig("SIGKILL")
