from celery import shared_task

from trackrev.workspaces.usage import usage_flush


@shared_task(name="workspaces.usage_flush", ignore_result=True)
def usage_flush_task() -> int:
    return usage_flush()
