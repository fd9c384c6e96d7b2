"""The explicit adapter registry: processor key → adapter class (no import-time self-registration)."""

from integrations.processors.base import ProcessorAdapter
from integrations.processors.demo import DemoApi
from integrations.processors.lemonsqueezy.adapter import LemonSqueezyAdapter
from integrations.processors.paddle.adapter import PaddleAdapter
from integrations.processors.polar.adapter import PolarAdapter
from integrations.processors.stripe.adapter import StripeAdapter
from integrations.processors.types import ConnectionCredentials

ADAPTERS: dict[str, type[ProcessorAdapter]] = {
    PolarAdapter.key: PolarAdapter,
    StripeAdapter.key: StripeAdapter,
    PaddleAdapter.key: PaddleAdapter,
    LemonSqueezyAdapter.key: LemonSqueezyAdapter,
}


def processor_choices() -> list[tuple[str, str]]:
    """(key, name) of every processor with an adapter: the choices of every processor field and filter."""
    return [(key, adapter.display_name) for key, adapter in ADAPTERS.items()]


def adapter_class(processor: str) -> type[ProcessorAdapter]:
    try:
        return ADAPTERS[processor]
    except KeyError:
        raise LookupError(f"no adapter for processor {processor!r}") from None


def get_adapter(connection, **kwargs) -> ProcessorAdapter:
    """Build the adapter of a ProcessorConnection from its decrypted credentials. A demo connection's API is
    the demo's own: nothing reaches a processor for it."""
    if connection.is_demo:
        kwargs.setdefault("http", DemoApi())
    creds = ConnectionCredentials(
        api_token=connection.api_token,
        webhook_secret=connection.webhook_secret,
        api_base_url=connection.api_base_url,
        options=dict(connection.options or {}),
    )
    return adapter_class(connection.processor)(creds, **kwargs)
