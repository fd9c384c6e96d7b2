"""The settings of a connection besides its token and secret, declared by each adapter
(`ProcessorAdapter.connection_options`): the fields of the Integrations page's form, the keys the API's
`options` accepts, the values the adapter reads from `creds.options`. Saleor's per-plugin configuration,
in small: shared code never names a processor's option."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator


@dataclass(frozen=True)
class ConnectionOption:
    name: str
    label: str
    help_text: str = ""
    pattern: str = ""  # the whole value must match, when set
    pattern_message: str = "Not a valid value."
    max_length: int = 200

    def validators(self) -> list:
        checks = [MaxLengthValidator(self.max_length)]
        if self.pattern:
            checks.append(RegexValidator(rf"\A(?:{self.pattern})\Z", self.pattern_message))
        return checks


def connection_options_clean(declared: tuple[ConnectionOption, ...], options: dict[str, str]) -> dict[str, str]:
    """The options as stored: known names only, blanks left out. Raises ValidationError naming each
    unknown or invalid one."""
    known = {option.name: option for option in declared}
    errors = [
        f"Unknown option {name!r}: {', '.join(known) or 'this processor takes none'}."
        for name in options
        if name not in known
    ]
    cleaned = {}
    for name, value in options.items():
        option = known.get(name)
        if option is None or not value:
            continue
        try:
            for check in option.validators():
                check(value)
        except ValidationError as error:
            errors.extend(f"{name}: {message}" for message in error.messages)
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned
