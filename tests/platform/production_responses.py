"""Run by tests/platform/test_deploy.py under the production settings module and env values: migrates the
(throwaway SQLite) database named by DATABASE_URL, makes one member and one partner, and prints as JSON
the headers and cookies of real responses: `/login/` over plain http and https, a member's login and a
partner's portal login. Static files are named without collectstatic's manifest (the one setting changed:
it decides file names only)."""

import json
import sys

import django

PASSWORD = "correct-horse-battery-staple"
HOST = "app.trackrev.example"


def answer(response) -> dict:
    cookies = {
        name: {key: morsel[key] for key in ("secure", "httponly", "samesite", "max-age", "path")}
        for name, morsel in response.cookies.items()
    }
    return {"status": response.status_code, "headers": dict(response.headers), "cookies": cookies}


def main() -> dict:
    django.setup()
    from django.core.management import call_command
    from django.test import Client, override_settings

    from tests.factories.affiliates import PartnerAccountFactory, PartnerFactory
    from tests.factories.workspaces import UserFactory

    call_command("migrate", verbosity=0)
    member = UserFactory(password=PASSWORD)
    partner = PartnerFactory(account=PartnerAccountFactory(password=PASSWORD))
    plain = {"STORAGES": {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}}
    with override_settings(**plain):
        https = {"secure": True, "HTTP_HOST": HOST}
        return {
            "http_login_page": answer(Client().get("/login/", HTTP_HOST=HOST)),
            "login_page": answer(Client().get("/login/", **https)),
            "member_login": answer(Client().post("/login/", {"username": member.email, "password": PASSWORD}, **https)),
            "partner_login": answer(
                Client().post("/partners/", {"email": partner.email, "password": PASSWORD}, **https)
            ),
        }


if __name__ == "__main__":
    json.dump(main(), sys.stdout)
