from django.utils import timezone

from trackrev.health.models import Heartbeat

HEARTBEAT = "trackrev.heartbeat"


def heartbeat_record(*, name: str = HEARTBEAT) -> Heartbeat:
    heartbeat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"last_run_at": timezone.now()})
    return heartbeat
