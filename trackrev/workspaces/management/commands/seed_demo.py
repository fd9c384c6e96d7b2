from django.core.management.base import BaseCommand

from trackrev.workspaces.demo import demo_seed


class Command(BaseCommand):
    help = "(Re)create the demo workspace and login used by `make run`."

    def handle(self, *args, **options):
        login = demo_seed()
        self.stdout.write(f"Demo workspace {login.workspace.public_id} ready.")
        self.stdout.write(f"Demo login: {login.email} / {login.password}")
