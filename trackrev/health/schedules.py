from datetime import timedelta

# /healthz must report a dead worker within a minute of its death. Its last heartbeat was recorded
# before it died, so it is reported at the latest HEARTBEAT_MAX_AGE (45 s) after; a live worker
# records one every 15 s, so two late or lost ones in a row are tolerated.
HEARTBEAT_INTERVAL = timedelta(seconds=15)
HEARTBEAT_MAX_AGE = 3 * HEARTBEAT_INTERVAL

SCHEDULE = {
    "trackrev.heartbeat": {
        "task": "trackrev.heartbeat",
        "schedule": HEARTBEAT_INTERVAL,
        # One that waited in the queue longer than /healthz tolerates must not make it look healthy.
        "options": {"expires": HEARTBEAT_MAX_AGE.total_seconds()},
    },
}
