"""`check --deploy` is clean with production env values, and pages carry the security headers."""

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
