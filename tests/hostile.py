"""Hypothesis strategies for hostile request bodies, shared by the property tests of /collect, the
webhooks and the REST API: what a fuzzer or an attacker sends to a JSON parser."""

import json
import sys

from hypothesis import strategies as st

# Raw JSON text of one value each: nesting past Python's recursion limit (and past our depth limit but
# under it), numbers no float holds, non-JSON constants, text PostgreSQL cannot store, oversize values.
DEEP = st.sampled_from([20 * sys.getrecursionlimit(), sys.getrecursionlimit(), 65]).flatmap(
    lambda depth: st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth])
)
HUGE_NUMBERS = st.sampled_from(["1e400", "-1e400", "1" + "0" * 400, "-" + "9" * 400, "1" * 4400, "0.1e-400"])
CONSTANTS = st.sampled_from(["NaN", "Infinity", "-Infinity"])
UNSTORABLE_TEXT = st.sampled_from(['"\\ud800"', '"a\\udfff"', '"\\u0000"', '"x\\u0000y"', '"\\udc00\\ud800"'])
WRONG_TYPES = st.sampled_from(["null", "true", "false", "0", "-1", "1.5", "[]", "{}", '""', '"x"', "[1,2]", '{"a":1}'])
OVERSIZE = st.sampled_from(['"' + "x" * 20_000 + '"', "[" + ",".join(["1"] * 20_000) + "]", '"' + "é" * 5_000 + '"'])
VALUES = DEEP | HUGE_NUMBERS | CONSTANTS | UNSTORABLE_TEXT | WRONG_TYPES | OVERSIZE

# Bytes that are not UTF-8 (a lone continuation byte, an encoded surrogate, an overlong encoding, a cut
# sequence), put where a string's characters go.
INVALID_UTF8 = st.sampled_from([b"\xff", b"\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"\xe2\x82", b"\xfe\xfe"])
_MARK = "\x01hostile\x01"


def _paths(template, prefix=()):
    """Every key path of the nested objects of `template`."""
    for key, value in template.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, key))


def _with_raw(template: dict, path: tuple, raw: bytes) -> bytes:
    body = json.loads(json.dumps(template))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = _MARK
    return json.dumps(body).encode().replace(json.dumps(_MARK).encode(), raw)


def hostile_bodies(template: dict) -> st.SearchStrategy[bytes]:
    """A body like `template` (a valid one) with one field made hostile, or one hostile throughout."""
    paths = st.sampled_from(list(_paths(template)))
    field_value = st.tuples(paths, VALUES.map(str.encode)).map(lambda pv: _with_raw(template, pv[0], pv[1]))
    field_bytes = st.tuples(paths, INVALID_UTF8).map(lambda pb: _with_raw(template, pb[0], b'"' + pb[1] + b'"'))
    whole = VALUES.map(str.encode) | INVALID_UTF8 | st.binary(max_size=200)
    return field_value | field_bytes | whole
