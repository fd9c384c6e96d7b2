"""The checks of a connection's API base URL and options, shared by the API, the Integrations page's form
and the admin (through ProcessorConnection.clean)."""

from django.core.exceptions import ValidationError

from integrations.processors.errors import ApiUrlNotAllowed
from integrations.processors.options import connection_options_clean
from integrations.processors.registry import adapter_class


def api_base_url_validate(*, processor: str, url: str) -> None:
    try:
        adapter = adapter_class(processor)
    except LookupError:
        return  # an unsupported processor is refused by connection_create
    try:
        adapter.api_base_url_check(url)
    except ApiUrlNotAllowed as exc:
        urls = " or ".join(filter(None, (adapter.default_api_base_url, adapter.sandbox_api_base_url)))
        raise ValidationError(f"Not allowed: use {urls}.", code="not_allowed") from exc


def connection_options_validate(*, processor: str, options) -> dict[str, str]:
    """The options as stored: only those the processor's adapter declares, each valid."""
    if not isinstance(options, dict) or not all(isinstance(value, str) for value in options.values()):
        raise ValidationError("Options are names with text values.", code="invalid")
    try:
        declared = adapter_class(processor).connection_options
    except LookupError:
        return options  # an unsupported processor is refused by connection_create
    return connection_options_clean(declared, options)
