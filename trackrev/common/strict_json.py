"""JSON from outside (pixel hits, webhooks, API bodies), held to what we can store and compute with.

`json.loads` accepts more than that: `NaN` and `Infinity`, `1e400` (read as infinity), lone surrogates
(`"\\ud800"`, not Unicode: neither UTF-8 nor PostgreSQL can hold them), `\\u0000` (no PostgreSQL text
column can hold it), and nesting deep enough to exhaust the interpreter's stack (RecursionError, which
is no ValueError). Each is refused here, so a caller answers 400 instead of failing later with a 500.
"""

import json
import math
import re

# Deeper than any payload we read (a processor's event nests about 5 levels), far below the stack limit.
MAX_DEPTH = 64
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


class JsonInvalid(ValueError):
    """Not JSON, or JSON we refuse (see the module docstring)."""


def _constant(name: str):
    raise JsonInvalid(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonInvalid(f"{text[:20]} is out of range")
    return value


def json_loads_strict(body: bytes) -> object:
    """The decoded value, or JsonInvalid (a ValueError) for anything refused. Bytes must be UTF-8
    (RFC 8259), not whatever `json.loads` would detect."""
    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except RecursionError as exc:
        raise JsonInvalid("nested too deeply") from exc
    except ValueError as exc:  # includes UnicodeDecodeError and the digit limit of huge integers
        raise JsonInvalid(str(exc)) from exc
    # In valid UTF-8 JSON only a `\u` escape can spell U+0000 or a lone surrogate (the codec refuses
    # encoded surrogates, the decoder raw control characters), and nesting needs as many brackets:
    # most bodies (a pixel hit, a processor's event) need no walk, which costs three times the decode.
    if "\\u" in text or text.count("[") + text.count("{") > MAX_DEPTH:
        _check(value)
    return value


def _check(value: object) -> None:
    """Depth and text of the decoded value, without recursion (the value may be ~1000 levels deep)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                raise JsonInvalid("a string holds U+0000 or a lone surrogate")
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise JsonInvalid(f"nested deeper than {MAX_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
