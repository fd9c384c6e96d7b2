"""The outbound `sale.*` events (CONTRACTS §7), told from attribution's current state of an order, so they
follow "attribution changed" and never race the credits they carry:

- `sale.created` once the order is paid and credited;
- `sale.updated` when its buyer match or credits change later (a late email match, a recompute);
- `sale.refunded` each time its refunded amount grows.

A replay of the same revision changes nothing: each event carries a dedupe key of what it tells.
"""

from attribution import credit_models as cm
from attribution.selectors.orders import OrderAttributionState, order_attribution_get
from integrations.models import EventType, Order
from integrations.services.outbound_webhooks import event_emit, events_listened, last_event_body
from trackrev.common.money import money_format

SALE_STATE = (EventType.SALE_CREATED, EventType.SALE_UPDATED)
SALE_EVENTS = {*SALE_STATE, EventType.SALE_REFUNDED}


def sale_data(state: OrderAttributionState) -> dict:
    order = state.order
    credits = {
        model: [{"channel": c.channel, "weight": cm.weight_text(c.weight)} for c in state.credits[model]]
        for model in cm.MODELS
    }
    shown = state.credits[order.workspace.attribution_model]
    return {
        "order_id": order.pk,
        "external_id": order.external_id,
        "processor": order.processor,
        "source": order.processor,
        "kind": order.kind,
        "status": order.status,
        "amount": money_format(order.amount_minor, order.currency),
        "currency": order.currency,
        "amount_usd": money_format(order.amount_usd_minor, "USD"),
        "refunded": money_format(order.refunded_minor, order.currency),
        "placed_at": order.placed_at.isoformat().replace("+00:00", "Z"),
        "visitor_id": order.visitor_id,
        "matched_by": order.matched_by,
        "channel": shown[0].channel if shown else cm.UNATTRIBUTED,
        "credits": credits,
    }


def _credited(data: dict) -> tuple:
    return data["visitor_id"], data["matched_by"], data["channel"], data["credits"]


def sale_events_emit(*, order_id: int) -> None:
    workspace_id = Order.objects.filter(pk=order_id).values_list("workspace_id", flat=True).first()
    if workspace_id is None or not events_listened(workspace_id=workspace_id) & SALE_EVENTS:
        return  # nobody listens: the common case, one query
    state = order_attribution_get(order_id=order_id)
    if state is None or not state.order.is_paid or not any(state.credits.values()):
        return
    data, subject = sale_data(state), f"order:{order_id}"

    def tell(event_type: str, dedupe_key: str) -> None:
        event_emit(workspace_id=workspace_id, event_type=event_type, subject=subject, dedupe_key=dedupe_key, data=data)

    told = last_event_body(workspace_id=workspace_id, subject=subject, types=SALE_STATE)
    if told is None:
        tell(EventType.SALE_CREATED, f"sale.created:{order_id}")
    elif _credited(told["data"]) != _credited(data):
        tell(EventType.SALE_UPDATED, f"sale.updated:{order_id}:{state.revision}")
    if state.order.refunded_minor > 0:
        tell(EventType.SALE_REFUNDED, f"sale.refunded:{order_id}:{state.order.refunded_minor}")
