"""The strict JSON loader (trackrev/common/strict_json.py) refuses what we cannot store or compute with,
whether or not the body looks like it needs the full walk."""

import pytest

from trackrev.common.strict_json import MAX_DEPTH, JsonInvalid, json_loads_strict


@pytest.mark.parametrize(
    "body",
    [
        b'"\\u0000"',
        b'{"a": ["x\\ud800"]}',
        b'{"\\udc00": 1}',
        b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1),
        b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1),
        b"[" * 5000 + b"]" * 5000,
        b"NaN",
        b"[1e400]",
        b'"\xed\xa0\x80"',  # a surrogate encoded in UTF-8
        b'"a\x00b"',  # a raw control character
    ],
)
def test_refused(body):
    with pytest.raises(JsonInvalid):
        json_loads_strict(body)


@pytest.mark.parametrize(
    "body, value",
    [
        (b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, None),
        (b'"\\\\u0000"', "\\u0000"),  # an escaped backslash, then the letters u0000
        (b'{"name": "J\\u00e9r\\u00f4me", "n": 1.5}', {"name": "Jérôme", "n": 1.5}),
        ('{"name": "Jérôme"}'.encode(), {"name": "Jérôme"}),
    ],
)
def test_accepted(body, value):
    decoded = json_loads_strict(body)
    if value is not None:
        assert decoded == value
