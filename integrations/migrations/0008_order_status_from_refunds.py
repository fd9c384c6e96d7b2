"""Orders stored before the ledger derived the status from the refunds it holds (a refund event
arriving before, or instead of, the order update) may still say `paid`: give them their true status.
No credit changes (every paid status is credited the same), so no consumer needs to hear of it."""

from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):
    Order = apps.get_model("integrations", "Order")
    refunded = Order.objects.filter(refunded_minor__gt=0)
    refunded.filter(status__in=["paid", "partially_refunded"], refunded_minor__gte=F("amount_minor")).update(
        status="refunded"
    )
    refunded.filter(status="paid").update(status="partially_refunded")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0007_order_subscription_first_idx")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
