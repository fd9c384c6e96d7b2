import pytest
from django.contrib.admin.models import LogEntry

from attribution.models import ChannelRule
from attribution.services.channels import RECLASSIFY_TASK, channel_rule_create
from attribution.services.credits import order_credits_refresh
from tests.factories.engine import IdentityFactory, OrderFactory, TouchFactory
from tests.factories.workspaces import MembershipFactory, UserFactory, WorkspaceFactory
from trackrev.outbox.models import Notification
from trackrev.workspaces.models import ApiKey
from trackrev.workspaces.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/workspaces/workspace/",
        "/admin/workspaces/membership/",
        "/admin/workspaces/apikey/",
        "/admin/workspaces/user/",
        "/admin/django_celery_beat/periodictask/",
        "/admin/health/heartbeat/",
        "/admin/integrations/processorconnection/",
        "/admin/attribution/recomputerun/",
    ],
)
def test_staff_screens_load(staff_client, url):
    MembershipFactory()

    assert staff_client.get(url).status_code == 200


def test_admin_revoke_action(staff_client, workspace):
    key = api_key_create(workspace=workspace, name="leaked").api_key

    response = staff_client.post(
        "/admin/workspaces/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )

    assert response.status_code == 200
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert "Revoke: 1 done." in response.content.decode()
    entry = LogEntry.objects.get(object_id=str(key.pk))
    assert (entry.get_change_message(), entry.content_type.model) == ("Action: Revoke.", "apikey")


def test_members_cannot_open_the_admin(owner_client):
    assert owner_client.get("/admin/")["Location"].startswith("/admin/login/")


def admin_form(workspace, **changes) -> dict:
    form = {
        "name": workspace.name,
        "plan": workspace.plan,
        "timezone": workspace.timezone,
        "allowed_domains": "[]",
        "attribution_model": workspace.attribution_model,
        "lookback_days": str(workspace.lookback_days),
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    return {**form, **changes}


def test_an_admin_change_of_lookback_recomputes_the_workspace(staff_client, broker, committed):
    from datetime import timedelta

    from attribution.models import AttributionState, Credit, RecomputeRun
    from attribution.services.credits import order_credits_refresh
    from tests.factories.engine import T0, OrderFactory, TouchFactory
    from tests.factories.workspaces import WorkspaceFactory

    workspace = WorkspaceFactory(lookback_days=30)
    TouchFactory(workspace=workspace, visitor_id="vis", occurred_at=T0 - timedelta(days=20), channel="Google")
    order = OrderFactory(workspace=workspace, visitor_id="vis")
    order_credits_refresh(order_id=order.pk)
    assert Credit.objects.get(order=order, model="last_touch").channel == "Google"

    with committed():
        response = staff_client.post(
            f"/admin/workspaces/workspace/{workspace.pk}/change/", admin_form(workspace, lookback_days="7")
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    broker.run()

    run = RecomputeRun.objects.get(workspace=workspace)
    assert (run.status, run.reason, run.lookback_days) == ("succeeded", "Lookback window 30 → 7 days", 7)
    state = AttributionState.objects.get(workspace=workspace)
    assert (state.version, state.lookback_days) == (run.version, 7)
    assert Credit.objects.get(order=order, model="last_touch").channel == "Unattributed"


def test_an_admin_change_that_does_not_shape_credits_recomputes_nothing(staff_client, broker, committed):
    from attribution.models import RecomputeRun
    from tests.factories.workspaces import WorkspaceFactory

    workspace = WorkspaceFactory()
    with committed():
        staff_client.post(
            f"/admin/workspaces/workspace/{workspace.pk}/change/", admin_form(workspace, name="Renamed", plan="pro")
        )
    broker.run()
    workspace.refresh_from_db()
    assert (workspace.name, workspace.plan) == ("Renamed", "pro")
    assert not RecomputeRun.objects.exists()


def test_workspace_update_refuses_what_is_not_a_setting_and_tells_no_one_when_nothing_changed(broker, committed):
    from tests.factories.workspaces import WorkspaceFactory
    from trackrev.common.errors import ApplicationError
    from trackrev.outbox.models import Notification
    from trackrev.workspaces.services import workspace_update

    workspace = WorkspaceFactory()
    with pytest.raises(ApplicationError, match="public_id"):
        workspace_update(workspace=workspace, data={"public_id": "ws_mine"})
    with committed():
        workspace_update(workspace=workspace, data={"name": workspace.name, "lookback_days": workspace.lookback_days})
    assert not Notification.objects.exists() and broker.sent == []


def test_the_admin_is_trackrevs_back_office(staff_client):
    page = staff_client.get("/admin/").content.decode()

    assert "<title>Workspaces, processors and attribution | TrackRev back office</title>" in page
    assert '<a href="/admin/">TrackRev back office</a>' in page
    assert "Django administration" not in page


@pytest.fixture
def newsletter_rule():
    """A workspace whose `utm_source=beehiiv` visits are Newsletter."""
    return channel_rule_create(
        workspace=WorkspaceFactory(),
        field="source",
        operator="equals",
        value="beehiiv",
        channel="Newsletter",
        channel_group="Email",
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("/admin/attribution/touch/", "beehiiv-weekly"),
        ("/admin/attribution/channelrule/", "Newsletter"),
        ("/admin/attribution/identity/", "vis_rule"),
        ("/admin/attribution/orderattribution/", "vis_rule"),
    ],
)
def test_staff_see_touches_channel_rules_and_matches_read_only(staff_client, newsletter_rule, url, shown):
    workspace = newsletter_rule.workspace
    TouchFactory(workspace=workspace, visitor_id="vis_rule", channel="Newsletter", campaign="beehiiv-weekly")
    IdentityFactory(workspace=workspace, visitor_id="vis_rule")
    order_credits_refresh(order_id=OrderFactory(workspace=workspace, visitor_id="vis_rule").pk)

    response = staff_client.get(url)

    assert response.status_code == 200 and shown in response.content.decode()
    assert f'href="{url}add/"' not in response.content.decode()  # derived or received rows: no hand-made ones


def test_removing_a_channel_rule_in_the_admin_relabels_history_as_the_page_does(
    staff_client, committed, newsletter_rule
):
    Notification.objects.all().delete()

    response = staff_client.post(
        "/admin/attribution/channelrule/",
        {"action": "delete_selected", "_selected_action": [newsletter_rule.pk], "post": "yes"},
    )

    assert response.status_code == 302 and not ChannelRule.objects.exists()
    assert Notification.objects.filter(task=RECLASSIFY_TASK, subject_id=newsletter_rule.workspace_id).exists()
