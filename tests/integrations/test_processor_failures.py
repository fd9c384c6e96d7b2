"""What a processor's API answers stays on the server: redirects are never followed, and a failure
reaches sync runs, pages and API responses only as its category (integrations.processors.errors.Failure).

The processor is `responses` standing in for Polar's API at its production URL."""

import logging

import pytest
import requests
import responses
from django.utils.html import escape

from integrations.processors.errors import Failure, ProcessorRejected, ProcessorUnavailable
from integrations.processors.http import HttpClient
from integrations.processors.registry import get_adapter
from integrations.services.reconcile import sync_run_execute, sync_run_queue
from tests.factories.integrations import ProcessorConnectionFactory

API = "https://api.polar.sh/v1"
METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
# What a hostile or broken endpoint answers: none of it may leave the server.
LEAK = "AKIA-LEAKED-CREDENTIAL-7731 <script>alert(1)</script>"


def client(**options) -> HttpClient:
    return HttpClient(base_url=API, token="t", sleep=lambda seconds: None, **options)


@responses.activate
def test_a_redirect_is_never_followed():
    responses.get(f"{API}/orders/", status=302, headers={"Location": METADATA})
    metadata = responses.get(METADATA, json={"items": [], "AccessKeyId": LEAK})

    with pytest.raises(ProcessorRejected) as error:
        client().get_json("orders/")

    assert (error.value.failure, error.value.status_code) == (Failure.REDIRECTED, 302)
    assert metadata.call_count == 0
    assert len(responses.calls) == 1


@pytest.mark.parametrize("status", [301, 303, 307, 308])
@responses.activate
def test_no_kind_of_redirect_is_followed(status):
    responses.get(f"{API}/orders/", status=status, headers={"Location": f"{API}/elsewhere/"})
    elsewhere = responses.get(f"{API}/elsewhere/", json={"items": []})
    with pytest.raises(ProcessorRejected) as error:
        client().get_json("orders/")
    assert error.value.failure == Failure.REDIRECTED
    assert elsewhere.call_count == 0


@pytest.mark.parametrize(
    ("answer", "failure", "error"),
    [
        (
            {"status": 401, "json": {"error": "invalid_token", "detail": LEAK}},
            Failure.TOKEN_REJECTED,
            ProcessorRejected,
        ),
        ({"status": 403, "json": {"detail": LEAK}}, Failure.PERMISSION_MISSING, ProcessorRejected),
        ({"status": 404, "json": {"detail": LEAK}}, Failure.NOT_FOUND, ProcessorRejected),
        ({"status": 422, "json": {"detail": LEAK}}, Failure.REQUEST_REFUSED, ProcessorRejected),
        ({"status": 429, "json": {"detail": LEAK}}, Failure.RATE_LIMITED, ProcessorUnavailable),
        ({"status": 503, "body": LEAK}, Failure.PROCESSOR_ERROR, ProcessorUnavailable),
        ({"status": 200, "body": LEAK, "content_type": "text/html"}, Failure.UNEXPECTED_ANSWER, ProcessorUnavailable),
        ({"body": requests.ConnectionError(LEAK)}, Failure.UNREACHABLE, ProcessorUnavailable),
    ],
)
@responses.activate
def test_each_answer_has_its_category_and_no_body(caplog, answer, failure, error):
    responses.get(f"{API}/orders/", **answer)
    caplog.set_level(logging.INFO)

    with pytest.raises(error) as raised:
        client(max_attempts=2).get_json("orders/")

    assert raised.value.failure == failure
    assert LEAK not in str(raised.value)
    assert LEAK not in caplog.text


# --- what sync runs, the Integrations page and the API show -----------------------------------------

SHOWN = [
    ({"status": 401, "json": {"error": "invalid_token", "detail": LEAK}}, Failure.TOKEN_REJECTED),
    ({"status": 403, "json": {"detail": LEAK}}, Failure.PERMISSION_MISSING),
    ({"status": 404, "json": {"detail": LEAK}}, Failure.NOT_FOUND),
    ({"status": 422, "json": {"detail": LEAK}}, Failure.REQUEST_REFUSED),
    ({"status": 500, "body": LEAK}, Failure.PROCESSOR_ERROR),
    ({"status": 302, "body": LEAK, "headers": {"Location": METADATA}}, Failure.REDIRECTED),
    ({"status": 200, "body": LEAK, "content_type": "text/plain"}, Failure.UNEXPECTED_ANSWER),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("answer", "failure"), SHOWN)
@responses.activate
def test_a_failed_sync_shows_only_the_category(api_client, owner_client, workspace, answer, failure):
    responses.get(f"{API}/subscriptions/", **answer)
    responses.get(METADATA, json={"items": [], "AccessKeyId": LEAK})
    connection = ProcessorConnectionFactory(workspace=workspace, api_base_url=API)
    run = sync_run_queue(connection=connection)

    sync_run_execute(sync_run_id=run.pk, adapter=get_adapter(connection, http=client()))

    run.refresh_from_db()
    assert (run.status, run.last_error) == ("failed", failure)
    detail = api_client.get(f"/api/v1/integrations/{connection.pk}/").json()
    assert detail["last_sync"]["last_error"] == failure
    html = owner_client.get("/app/integrations/polar/").content.decode()
    assert escape(failure) in html
    for shown in (str(detail), html):
        assert "AKIA-LEAKED" not in shown


@pytest.mark.django_db
@pytest.mark.parametrize(("answer", "failure"), SHOWN)
@responses.activate
def test_a_failed_connection_test_shows_only_the_category(owner_client, workspace, answer, failure):
    responses.get(f"{API}/orders/", **answer)
    responses.get(METADATA, json={"items": [], "AccessKeyId": LEAK})
    ProcessorConnectionFactory(workspace=workspace, api_base_url=API)

    html = owner_client.post("/app/integrations/polar/test/", follow=True).content.decode()

    assert escape(failure) in html
    assert "AKIA-LEAKED" not in html


@pytest.mark.django_db
@responses.activate
def test_an_answer_that_is_not_polars_orders_list_is_an_unexpected_answer(owner_client, workspace):
    responses.get(f"{API}/orders/", json={"detail": LEAK})
    ProcessorConnectionFactory(workspace=workspace, api_base_url=API)
    html = owner_client.post("/app/integrations/polar/test/", follow=True).content.decode()
    assert escape(Failure.UNEXPECTED_ANSWER) in html
    assert "AKIA-LEAKED" not in html
