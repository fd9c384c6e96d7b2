"""The workspace's PayPal credentials for partner payouts (its own business account)."""

from django.db import transaction

from affiliates.models import PayoutSettings
from trackrev.workspaces.models import Workspace


@transaction.atomic
def payout_settings_update(
    *, workspace: Workspace, paypal_client_id: str, paypal_mode: str, paypal_client_secret: str = ""
) -> PayoutSettings:
    """The secret is write-only: a blank one keeps the stored secret."""
    row, _ = PayoutSettings.objects.select_for_update().get_or_create(workspace=workspace)
    row.paypal_client_id = paypal_client_id.strip()
    row.paypal_mode = paypal_mode
    if paypal_client_secret.strip():
        row.paypal_client_secret = paypal_client_secret.strip()
    row.full_clean(exclude=["workspace"])
    row.save()
    return row
