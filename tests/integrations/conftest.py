import pytest

from integrations.services.webhooks import webhook_connection_forget


@pytest.fixture(autouse=True)
def _fresh_connection_cache():
    webhook_connection_forget()
    yield
    webhook_connection_forget()
