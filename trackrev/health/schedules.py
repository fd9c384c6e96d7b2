from datetime import timedelta

SCHEDULE = {
    "trackrev.heartbeat": {
        "task": "trackrev.heartbeat",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
}
