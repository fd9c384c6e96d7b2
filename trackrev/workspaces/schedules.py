from celery.schedules import crontab

SCHEDULE = {
    # Copy the pixel's monthly event counters from the cache into UsageMonth.
    "workspaces.usage_flush": {
        "task": "workspaces.usage_flush",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
}
