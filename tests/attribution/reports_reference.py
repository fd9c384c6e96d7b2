"""Reports computed from scratch over the raw tables (orders, touches, identities), without the
engine's credits, rollups or visitor sets: the yardstick the rollup-served reports must equal."""

import zoneinfo
from collections import defaultdict
from datetime import date

from attribution import credit_models as cm
from attribution.models import Identity, Touch
from integrations.models import Order


def reference_report(*, workspace, start: date, end: date, model: str, processor=None, group_by="channel"):
    """label → (visitors, conversions in millionths, revenue in USD minor units)."""
    tz = zoneinfo.ZoneInfo(workspace.timezone)
    touches = list(Touch.objects.filter(workspace=workspace))
    by_visitor = defaultdict(list)
    for t in touches:
        by_visitor[t.visitor_id].append(cm.Touchpoint(t.occurred_at, t.channel, t.channel_group, t.campaign, ref=t.pk))
    digests, visitors_of = defaultdict(set), defaultdict(set)
    for i in Identity.objects.filter(workspace=workspace, source="server"):  # only the backend's bindings stitch
        digests[i.visitor_id].add(i.email_digest)
        visitors_of[i.email_digest].add(i.visitor_id)
    orders = list(Order.objects.filter(workspace=workspace))

    def journey(order):
        people = {order.visitor_id} if order.visitor_id else set()
        emails = {d for v in people for d in digests[v]} | ({order.customer_email_digest} - {""})
        people |= {v for d in emails for v in visitors_of[d]}
        path = [t for v in people for t in by_visitor[v]]
        return cm.in_window(path, converted_at=order.placed_at, lookback_days=workspace.lookback_days)

    def weights(order):
        if order.kind == "renewal" and order.subscription_id:
            firsts = sorted(
                (o for o in orders if o.subscription_id == order.subscription_id and o.kind != "renewal"),
                key=lambda o: (o.placed_at, o.pk),
            )
            if firsts:
                order = firsts[0]
        return cm.model_weights(journey(order), converted_at=order.placed_at)[model]

    position = ("channel", "channel_group", "campaign").index(group_by)
    result = defaultdict(lambda: [set(), 0, 0])
    for order in orders:
        day = order.placed_at.astimezone(tz).date()
        if not order.is_paid or not start <= day <= end or (processor and order.processor != processor):
            continue
        usd = (order.amount_usd_minor or 0) - (order.refunded_usd_minor or 0)
        w = weights(order)
        for key, amount in zip(w, cm.largest_remainder(usd, list(w.values())), strict=True):
            label = key[position] or "(not set)"
            result[label][1] += w[key]
            result[label][2] += amount
    for t in touches:
        if start <= t.occurred_at.astimezone(tz).date() <= end:
            label = (t.channel, t.channel_group, t.campaign)[position] or "(not set)"
            result[label][0].add(t.visitor_id)
    return {label: (len(v), c, r) for label, (v, c, r) in result.items()}
