from datetime import timedelta

SCHEDULE = {
    # Notifications whose relay found the broker down, whose message was lost, or whose retry is due.
    "trackrev.outbox_sweep": {
        "task": "trackrev.outbox_sweep",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
}
