from celery.schedules import crontab

SCHEDULE: dict = {
    "integrations.reconcile_hourly": {
        "task": "integrations.reconcile_all",
        "schedule": crontab(minute=17),
        "options": {"expires": 50 * 60},
    },
    "integrations.webhook_events_sweep": {
        "task": "integrations.webhook_events_sweep",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Outbound deliveries due (retries, and first attempts the broker did not take).
    "integrations.webhook_deliveries_sweep": {
        "task": "integrations.webhook_deliveries_sweep",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    "integrations.webhook_events_prune": {
        "task": "integrations.webhook_events_prune",
        "schedule": crontab(hour=3, minute=41),
        "options": {"expires": 6 * 60 * 60},
    },
    # The ECB publishes around 16:00 CET on TARGET business days.
    "integrations.fx_fetch_daily": {
        "task": "integrations.fx_fetch_daily",
        "schedule": crontab(hour=16, minute=30),
        "options": {"expires": 6 * 60 * 60},
    },
}
