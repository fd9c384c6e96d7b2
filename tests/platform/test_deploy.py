"""`check --deploy` is clean with production env values, and pages carry the security headers."""

import json
import os
import re
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "trackrev.settings.base",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k3Jq9-z!Vw2#p8Lr6Tn4Yb1Xc7Hs5Gd0Fa-prod-like-secret-key-value",
    "DJANGO_ALLOWED_HOSTS": "app.trackrev.example",
    "DATABASE_URL": "sqlite:////tmp/trackrev-deploy-check.sqlite3",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "EMAIL_HASH_KEY": "prod-like-email-hash-key",
    "TRACKREV_PUBLIC_URL": "https://app.trackrev.example",
}


def _run(*command: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    # TRACKREV_ENV_FILE: the test settings' (no .env), so that a developer's .env supplies nothing.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TRACKREV_ENV_FILE") if k in os.environ}
    return subprocess.run(
        [sys.executable, *command],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=timeout,
    )


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return _run("manage.py", *args, env=env)


def test_check_deploy_passes_with_production_values():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("secret", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "EMAIL_HASH_KEY"])
def test_secrets_have_no_default_outside_debug(secret):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != secret}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"TrackRev cannot start: {secret} not set (secrets have no default outside DJANGO_DEBUG=1; see .env.example)"
    ]


def test_gunicorn_stops_instead_of_booting_workers_again_when_a_secret_is_missing():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "EMAIL_HASH_KEY"}

    result = _run(
        "-m", "gunicorn", "trackrev.wsgi", "--bind", "127.0.0.1:0", "--no-control-socket", env=env, timeout=30
    )

    assert result.returncode != 0
    assert "TrackRev cannot start: EMAIL_HASH_KEY not set" in result.stderr
    assert "Worker failed to boot." in result.stderr


@pytest.fixture(scope="module")
def production_responses(tmp_path_factory) -> dict:
    """Real responses of the production settings module (tests/platform/production_responses.py)."""
    database = tmp_path_factory.mktemp("production") / "db.sqlite3"
    env = {**PRODUCTION_ENV, "DATABASE_URL": f"sqlite:///{database}", "CACHE_URL": "locmemcache://"}
    result = _run("-m", "tests.platform.production_responses", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_plain_http_is_redirected_to_https(production_responses):
    answer = production_responses["http_login_page"]

    assert answer["status"] == 301
    assert answer["headers"]["Location"] == "https://app.trackrev.example/login/"


def test_production_pages_send_the_security_headers(production_responses):
    answer = production_responses["login_page"]
    headers = answer["headers"]

    assert answer["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    policy = dict(directive.strip().split(" ", 1) for directive in headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no other origin
    assert (policy["default-src"], policy["frame-ancestors"], policy["object-src"]) == ("'self'", "'none'", "'none'")
    assert (policy["base-uri"], policy["form-action"]) == ("'self'", "'self'")


def test_production_cookies_are_secure_httponly_and_same_site(production_responses):
    csrf = production_responses["login_page"]["cookies"]["csrftoken"]
    member = production_responses["member_login"]
    partner = production_responses["partner_login"]

    assert (csrf["secure"], csrf["httponly"], csrf["samesite"]) == (True, True, "Lax")
    for login in (member, partner):  # the partner portal keeps its login in the same session cookie
        assert login["status"] == 302
        session = login["cookies"]["sessionid"]
        assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")
        assert login["headers"]["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.django_db
def test_pages_send_csp_frame_and_cookie_protections(client):
    response = client.get("/login/")

    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


@pytest.mark.django_db
def test_the_pixel_answers_are_not_pages_and_carry_no_policy_while_every_page_does(client):
    """`@csp_exempt()` views skip the policy (trackrev/common/csp.py), the others keep it."""
    for response in (client.get("/p.js"), client.post("/collect", b"{}", content_type="text/plain")):
        assert "Content-Security-Policy" not in response
    assert "default-src 'self'" in client.get("/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in client.get("/no-such-page/")["Content-Security-Policy"]


def test_env_example_lists_every_variable_the_settings_read():
    source = (settings.BASE_DIR / "trackrev" / "settings" / "base.py").read_text()
    read = set(re.findall(r'(?:env\.\w+|_secret)\(\s*"([A-Z_]+)"', source))
    example = (settings.BASE_DIR / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z_]+)=", example, flags=re.M))

    assert read - listed == set()
