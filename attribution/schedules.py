from celery.schedules import crontab

SCHEDULE: dict = {
    # Fold new touches into the per-day visitor sets (reports also read the unfolded tail, so this
    # keeps them fast, not correct).
    "attribution-visitor-sets-sync": {
        "task": "attribution.visitor_sets_sync",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
}
