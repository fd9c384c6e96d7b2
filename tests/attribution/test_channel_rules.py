"""Settings → Channels: custom rules, preview against the last 30 days, re-applying to history."""

import datetime as dt

import pytest
import time_machine
from django.test import override_settings

from attribution.models import ChannelRule, RecomputeRun, Touch
from attribution.services.channels import channel_rule_create, touches_reclassify
from attribution.services.pixel import LandingHit, touch_record, touches_record
from attribution.tasks import touches_reclassify as touches_reclassify_task
from tests.attribution.pixel_helpers import hit, post
from tests.factories.workspaces import MembershipFactory, WorkspaceFactory
from trackrev.common.errors import ApplicationError
from trackrev.outbox.models import Notification
from trackrev.outbox.services import DELIVER_TASK, notifications_sweep

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
VID = "v" * 32
RULE = {"field": "source", "operator": "equals", "value": "beehiiv", "channel": "Weekly", "channel_group": "Email"}


def seed(workspace):
    hits = [
        LandingHit(VID, "https://a.example.com/?utm_source=beehiiv&utm_medium=newsletter", NOW - dt.timedelta(days=1)),
        LandingHit(VID, "https://a.example.com/?utm_source=beehiiv", NOW - dt.timedelta(days=2)),
        LandingHit(VID, "https://a.example.com/?utm_source=beehiiv", NOW - dt.timedelta(days=45)),
        LandingHit(VID, "https://a.example.com/", NOW - dt.timedelta(days=3), referrer="https://www.google.com/"),
    ]
    assert touches_record(workspace=workspace, hits=hits) == 4


def test_page_lists_rules_and_links_from_settings(owner_client, workspace):
    assert "No custom rules yet" in owner_client.get("/app/settings/channels/").content.decode()
    assert 'href="/app/settings/channels/"' in owner_client.get("/app/settings/").content.decode()


def test_add_rule_relabels_history_in_the_background(owner_client, workspace, django_capture_on_commit_callbacks):
    seed(workspace)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post("/app/settings/channels/", {**RULE, "action": "save"})
    assert response.status_code == 302
    assert ChannelRule.objects.filter(workspace=workspace, value="beehiiv").exists()
    assert len(callbacks) == 2  # forget the cached rules, enqueue the re-apply job
    assert touches_reclassify_task(workspace.pk) == 3
    assert sorted(Touch.objects.values_list("channel", "channel_group")) == [
        ("Google", "Organic Search"),
        ("Weekly", "Email"),
        ("Weekly", "Email"),
        ("Weekly", "Email"),
    ]
    assert touches_reclassify(workspace_id=workspace.pk) == 0  # idempotent


def test_new_hits_use_the_rule(client, workspace, django_capture_on_commit_callbacks):
    post(client, hit(workspace, u="https://shop.example.com/?utm_source=beehiiv"))  # caches the workspace
    with django_capture_on_commit_callbacks(execute=True):
        channel_rule_create(workspace=workspace, **RULE)
    post(client, hit(workspace, u="https://shop.example.com/?utm_source=beehiiv"))
    assert list(Touch.objects.order_by("id").values_list("channel", flat=True)) == ["Beehiiv", "Weekly"]


@time_machine.travel(NOW, tick=False)
def test_preview_counts_changes_in_the_last_30_days_and_saves_nothing(owner_client, workspace):
    seed(workspace)
    response = owner_client.post("/app/settings/channels/", {**RULE, "action": "preview"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 of 3 touches would change" in page
    assert "Beehiiv · Unassigned" in page and "Weekly · Email" in page
    assert not ChannelRule.objects.exists()
    assert not Touch.objects.filter(channel="Weekly").exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"operator": "regex", "value": "("},
        {"channel_group": "Made Up"},
        {"field": "nope"},
        {"value": ""},
        {"channel": ""},
    ],
)
@pytest.mark.parametrize("action", ["save", "preview"])
def test_bad_rules_are_refused(owner_client, workspace, bad, action):
    response = owner_client.post("/app/settings/channels/", {**RULE, **bad, "action": action})
    assert response.status_code == 400
    assert not ChannelRule.objects.exists()


def test_service_validates_regex(workspace):
    with pytest.raises(ApplicationError):
        channel_rule_create(workspace=workspace, **{**RULE, "operator": "regex", "value": "[a-"})


def test_delete_and_reapply(owner_client, workspace, django_capture_on_commit_callbacks):
    seed(workspace)
    with django_capture_on_commit_callbacks(execute=False):
        rule = channel_rule_create(workspace=workspace, **RULE)
    touches_reclassify(workspace_id=workspace.pk)
    assert owner_client.post(f"/app/settings/channels/{rule.pk}/delete/").status_code == 302
    assert not ChannelRule.objects.exists()
    assert owner_client.post("/app/settings/channels/reapply/").status_code == 302
    touches_reclassify(workspace_id=workspace.pk)
    assert not Touch.objects.filter(channel="Weekly").exists()


def test_other_workspaces_rules_are_404(owner_client, workspace):
    other = channel_rule_create(workspace=WorkspaceFactory(), **RULE)
    assert owner_client.post(f"/app/settings/channels/{other.pk}/delete/").status_code == 404
    assert ChannelRule.objects.filter(pk=other.pk).exists()


def test_viewers_cannot_change_rules(client, workspace):
    client.force_login(MembershipFactory(workspace=workspace, role="viewer").user)
    assert client.get("/app/settings/channels/").status_code == 200
    assert client.post("/app/settings/channels/", {**RULE, "action": "save"}).status_code == 403
    assert not ChannelRule.objects.exists()


@override_settings(CHANNEL_RULES_CONSUMERS=["attribution.channel_rules_applied"])
def test_reclassify_tells_the_consumers_through_the_outbox(workspace, broker):
    touch_record(workspace=workspace, visitor_id=VID, url="https://a.example.com/?utm_source=beehiiv")
    ChannelRule.objects.create(workspace=workspace, **RULE)
    assert touches_reclassify(workspace_id=workspace.pk) == 1
    assert broker.names() == [DELIVER_TASK]
    broker.run()
    assert RecomputeRun.objects.get(workspace=workspace).reason == "Channel rules changed"
    assert not Notification.objects.exists()


@override_settings(CHANNEL_RULES_CONSUMERS=["attribution.channel_rules_applied"])
def test_a_reclassify_whose_hand_off_failed_is_still_followed_by_a_recompute(workspace, broker):
    """The re-labelled touches commit with the notification they owe; the broker being down (or the
    worker dying) before the hand-off leaves it to the sweeper."""
    touch_record(workspace=workspace, visitor_id=VID, url="https://a.example.com/?utm_source=beehiiv")
    ChannelRule.objects.create(workspace=workspace, **RULE)
    broker.down = True
    assert touches_reclassify(workspace_id=workspace.pk) == 1
    assert touches_reclassify(workspace_id=workspace.pk) == 0  # a retry finds nothing left to change
    broker.down = False
    assert notifications_sweep() == 1
    broker.run()
    assert RecomputeRun.objects.get(workspace=workspace).status == "succeeded"
