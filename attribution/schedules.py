from datetime import timedelta

from celery.schedules import crontab

SCHEDULE: dict = {
    # Landings buffered in Redis by /collect become touches within seconds.
    "attribution.touches_flush": {
        "task": "attribution.touches_flush",
        "schedule": timedelta(seconds=10),
        "options": {"expires": 9},
    },
    # Fold new touches into the per-day visitor sets (reports also read the unfolded tail, so this
    # keeps them fast, not correct).
    "attribution.visitor_sets_sync": {
        "task": "attribution.visitor_sets_sync",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Orders whose buyer identified after the purchase: email match and stitched touches.
    "attribution.identities_apply": {
        "task": "attribution.identities_apply",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
}
