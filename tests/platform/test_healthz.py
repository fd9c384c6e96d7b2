from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from trackrev.health.services import heartbeat_record

pytestmark = pytest.mark.django_db


def test_healthy_with_a_fresh_heartbeat(client):
    heartbeat_record()

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["broker"] == "ok"
    assert 0 <= body["heartbeat_age_seconds"] < 5


def test_unhealthy_before_the_first_heartbeat(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["heartbeat_age_seconds"] is None


def test_unhealthy_when_the_heartbeat_is_stale(client):
    with time_machine.travel(timezone.now() - timedelta(minutes=10)):
        heartbeat_record()

    response = client.get("/healthz")

    assert response.status_code == 503 and response.json()["heartbeat_age_seconds"] >= 600


def test_unhealthy_when_the_broker_is_down(client, settings):
    from trackrev.celery import app

    heartbeat_record()
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = saved

    assert response.status_code == 503 and response.json()["broker"] == "down"
