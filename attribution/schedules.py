from celery.schedules import crontab

SCHEDULE: dict = {
    # Copy the pixel's monthly event counters from the cache into UsageMonth (trackrev.workspaces).
    "workspaces-usage-flush": {
        "task": "workspaces.usage_flush",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Fold new touches into the per-day visitor sets (reports also read the unfolded tail, so this
    # keeps them fast, not correct).
    "attribution-visitor-sets-sync": {
        "task": "attribution.visitor_sets_sync",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
}
