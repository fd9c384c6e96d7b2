import pytest

from integrations.services.webhooks import webhook_connection_forget


@pytest.fixture(autouse=True)
def _fresh_connection_cache():
    webhook_connection_forget()
    yield
    webhook_connection_forget()


@pytest.fixture(autouse=True)
def _dispatch_settled():
    """What a test's deliveries handed to the dispatch thread is published before the next test starts
    (into this test's broker, not the next one's)."""
    from integrations import dispatch

    yield
    assert dispatch._batcher.drain(timeout=5)


@pytest.fixture
def dispatched(broker):
    """What the web process handed to the worker, once its dispatch thread has published it: the inbox
    ids of each `webhook_events_process` message."""
    from integrations import dispatch

    def published() -> list[list[int]]:
        assert dispatch._batcher.drain(timeout=5), "the dispatch thread did not publish"
        return [args[0] for name, args in broker.sent if name == dispatch.PROCESS_MANY]

    return published
