import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from trackrev.common.errors import ApplicationError
from trackrev.workspaces.models import Plan
from trackrev.workspaces.services import api_key_create, user_get_or_create, workspace_create


class Command(BaseCommand):
    help = "Create a workspace with an owner and an API key. The last line of output is JSON."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", default=None)
        parser.add_argument("--plan", choices=Plan.values, default=Plan.FREE)

    def handle(self, *args, name, owner_email, owner_password, plan, **options):
        try:
            validate_email(owner_email)
        except ValidationError:
            raise CommandError(f"{owner_email!r} is not an email address.") from None
        try:
            with transaction.atomic():
                owner = user_get_or_create(email=owner_email, password=owner_password)
                workspace = workspace_create(name=name, owner=owner, plan=plan)
                issued = api_key_create(workspace=workspace, name="create_workspace")
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Created workspace {workspace.name!r} owned by {owner.email}.")
        self.stdout.write(json.dumps({"workspace": workspace.public_id, "api_key": issued.raw_key}))
