from celery.schedules import crontab

SCHEDULE: dict = {
    # Pending commissions whose hold passed are approved; a subscription canceled inside the hold reverses.
    "affiliates.commissions_mature": {
        "task": "affiliates.commissions_mature",
        "schedule": crontab(minute=23),
        "options": {"expires": 50 * 60},
    },
    # PayPal batches and Stripe invoices on their way, until final.
    "affiliates.payout_batches_follow": {
        "task": "affiliates.payout_batches_follow",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 10 * 60},
    },
    # The month before is paid out on the 1st (after the night's approvals).
    "affiliates.payouts_monthly": {
        "task": "affiliates.payouts_monthly",
        "schedule": crontab(day_of_month=1, hour=6, minute=5),
        "options": {"expires": 6 * 60 * 60},
    },
}
