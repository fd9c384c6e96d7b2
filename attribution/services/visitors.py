"""Per-day visitor sets (Roaring bitmaps of Visitor ids) per channel, folded in from new touches by
id watermark (Citus-style incremental rollup); reports add the not-yet-folded tail on the fly.

A fold covers ids up to the newest id seen by the previous fold, a minute earlier: ids are handed
out before commit, so a touch with a lower id may still become visible after higher ones; waiting
one period lets those commit instead of skipping them."""

import zoneinfo
from collections import defaultdict
from datetime import UTC

from django.db import connection, transaction
from django.utils.dateparse import parse_datetime
from pyroaring import BitMap

from attribution.models import Touch, Visitor, VisitorSetDay
from attribution.services.credits import attribution_state_get
from trackrev.workspaces.models import Workspace


def touches_with_visitor_numbers(*, workspace: Workspace, after_id: int, upto: int | None = None, start=None, end=None):
    """(touch id, occurred_at, channel, group, campaign, Visitor pk) for touches with ids in
    (after_id, upto], optionally within [start, end) — one join, streamed."""
    touch, visitor = Touch._meta.db_table, Visitor._meta.db_table
    sql = (
        f"SELECT t.id, t.occurred_at, t.channel, t.channel_group, t.campaign, v.id FROM {touch} t "  # noqa: S608
        f"JOIN {visitor} v ON v.workspace_id = t.workspace_id AND v.visitor_id = t.visitor_id "
        "WHERE t.workspace_id = %s AND t.id > %s"
    )
    params: list = [workspace.pk, after_id]
    if upto is not None:
        sql += " AND t.id <= %s"
        params.append(upto)
    if start is not None:
        sql += " AND t.occurred_at >= %s AND t.occurred_at < %s"
        params += [start, end]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5000):
            for row in rows:
                occurred_at = row[1]
                if isinstance(occurred_at, str):  # SQLite through a raw cursor
                    occurred_at = parse_datetime(occurred_at)
                if occurred_at.tzinfo is None:  # SQLite stores UTC without an offset
                    occurred_at = occurred_at.replace(tzinfo=UTC)
                yield row[0], occurred_at, row[2], row[3], row[4], row[5]


@transaction.atomic
def visitor_sets_sync(*, workspace: Workspace) -> int:
    """Fold touches past the watermark into the day sets, up to the newest id the previous fold saw;
    returns how many touches were folded."""
    state = attribution_state_get(workspace=workspace, lock=True)
    newest = (
        Touch.objects.filter(workspace=workspace, pk__gt=state.touches_seen)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    ) or state.touches_seen
    upto = state.touches_seen
    tz = zoneinfo.ZoneInfo(workspace.timezone)
    fresh: dict[tuple, BitMap] = defaultdict(BitMap)
    count = 0
    for _, occurred_at, channel, group, campaign, number in touches_with_visitor_numbers(
        workspace=workspace, after_id=state.touches_through, upto=upto
    ):
        fresh[(occurred_at.astimezone(tz).date(), channel, group, campaign)].add(number)
        count += 1
    existing = {
        (row.day, row.channel, row.channel_group, row.campaign): row
        for row in VisitorSetDay.objects.filter(workspace=workspace, day__in={k[0] for k in fresh})
    }
    to_create, to_update = [], []
    for key, bitmap in fresh.items():
        row = existing.get(key)
        if row is None:
            to_create.append(
                VisitorSetDay(
                    workspace=workspace,
                    day=key[0],
                    channel=key[1],
                    channel_group=key[2],
                    campaign=key[3],
                    visitors=bitmap.serialize(),
                )
            )
        else:
            row.visitors = (BitMap.deserialize(bytes(row.visitors)) | bitmap).serialize()
            to_update.append(row)
    VisitorSetDay.objects.bulk_create(to_create, batch_size=500)
    VisitorSetDay.objects.bulk_update(to_update, ["visitors"], batch_size=500)
    state.touches_through = max(state.touches_through, upto)
    state.touches_seen = newest
    state.save(update_fields=["touches_through", "touches_seen"])
    return count


@transaction.atomic
def visitor_sets_rebuild(*, workspace: Workspace) -> int:
    """From scratch (after channel rules re-labelled history), up to what the previous fold saw;
    readers see the old sets until commit."""
    state = attribution_state_get(workspace=workspace, lock=True)
    VisitorSetDay.objects.filter(workspace=workspace).delete()
    state.touches_through = 0
    state.save(update_fields=["touches_through"])
    return visitor_sets_sync(workspace=workspace)
