"""starlette.status: the RFC 9110 names, the WebSocket close codes and the deprecated aliases."""

from __future__ import annotations

import http
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import starlette.status as status

CURRENT_NAMES: dict[str, int] = {
    "HTTP_100_CONTINUE": 100,
    "HTTP_101_SWITCHING_PROTOCOLS": 101,
    "HTTP_102_PROCESSING": 102,
    "HTTP_103_EARLY_HINTS": 103,
    "HTTP_200_OK": 200,
    "HTTP_201_CREATED": 201,
    "HTTP_202_ACCEPTED": 202,
    "HTTP_203_NON_AUTHORITATIVE_INFORMATION": 203,
    "HTTP_204_NO_CONTENT": 204,
    "HTTP_205_RESET_CONTENT": 205,
    "HTTP_206_PARTIAL_CONTENT": 206,
    "HTTP_207_MULTI_STATUS": 207,
    "HTTP_208_ALREADY_REPORTED": 208,
    "HTTP_226_IM_USED": 226,
    "HTTP_300_MULTIPLE_CHOICES": 300,
    "HTTP_301_MOVED_PERMANENTLY": 301,
    "HTTP_302_FOUND": 302,
    "HTTP_303_SEE_OTHER": 303,
    "HTTP_304_NOT_MODIFIED": 304,
    "HTTP_305_USE_PROXY": 305,
    "HTTP_306_RESERVED": 306,
    "HTTP_307_TEMPORARY_REDIRECT": 307,
    "HTTP_308_PERMANENT_REDIRECT": 308,
    "HTTP_400_BAD_REQUEST": 400,
    "HTTP_401_UNAUTHORIZED": 401,
    "HTTP_402_PAYMENT_REQUIRED": 402,
    "HTTP_403_FORBIDDEN": 403,
    "HTTP_404_NOT_FOUND": 404,
    "HTTP_405_METHOD_NOT_ALLOWED": 405,
    "HTTP_406_NOT_ACCEPTABLE": 406,
    "HTTP_407_PROXY_AUTHENTICATION_REQUIRED": 407,
    "HTTP_408_REQUEST_TIMEOUT": 408,
    "HTTP_409_CONFLICT": 409,
    "HTTP_410_GONE": 410,
    "HTTP_411_LENGTH_REQUIRED": 411,
    "HTTP_412_PRECONDITION_FAILED": 412,
    "HTTP_413_CONTENT_TOO_LARGE": 413,
    "HTTP_414_URI_TOO_LONG": 414,
    "HTTP_415_UNSUPPORTED_MEDIA_TYPE": 415,
    "HTTP_416_RANGE_NOT_SATISFIABLE": 416,
    "HTTP_417_EXPECTATION_FAILED": 417,
    "HTTP_418_IM_A_TEAPOT": 418,
    "HTTP_421_MISDIRECTED_REQUEST": 421,
    "HTTP_422_UNPROCESSABLE_CONTENT": 422,
    "HTTP_423_LOCKED": 423,
    "HTTP_424_FAILED_DEPENDENCY": 424,
    "HTTP_425_TOO_EARLY": 425,
    "HTTP_426_UPGRADE_REQUIRED": 426,
    "HTTP_428_PRECONDITION_REQUIRED": 428,
    "HTTP_429_TOO_MANY_REQUESTS": 429,
    "HTTP_431_REQUEST_HEADER_FIELDS_TOO_LARGE": 431,
    "HTTP_451_UNAVAILABLE_FOR_LEGAL_REASONS": 451,
    "HTTP_500_INTERNAL_SERVER_ERROR": 500,
    "HTTP_501_NOT_IMPLEMENTED": 501,
    "HTTP_502_BAD_GATEWAY": 502,
    "HTTP_503_SERVICE_UNAVAILABLE": 503,
    "HTTP_504_GATEWAY_TIMEOUT": 504,
    "HTTP_505_HTTP_VERSION_NOT_SUPPORTED": 505,
    "HTTP_506_VARIANT_ALSO_NEGOTIATES": 506,
    "HTTP_507_INSUFFICIENT_STORAGE": 507,
    "HTTP_508_LOOP_DETECTED": 508,
    "HTTP_510_NOT_EXTENDED": 510,
    "HTTP_511_NETWORK_AUTHENTICATION_REQUIRED": 511,
    "WS_1000_NORMAL_CLOSURE": 1000,
    "WS_1001_GOING_AWAY": 1001,
    "WS_1002_PROTOCOL_ERROR": 1002,
    "WS_1003_UNSUPPORTED_DATA": 1003,
    "WS_1005_NO_STATUS_RCVD": 1005,
    "WS_1006_ABNORMAL_CLOSURE": 1006,
    "WS_1007_INVALID_FRAME_PAYLOAD_DATA": 1007,
    "WS_1008_POLICY_VIOLATION": 1008,
    "WS_1009_MESSAGE_TOO_BIG": 1009,
    "WS_1010_MANDATORY_EXT": 1010,
    "WS_1011_INTERNAL_ERROR": 1011,
    "WS_1012_SERVICE_RESTART": 1012,
    "WS_1013_TRY_AGAIN_LATER": 1013,
    "WS_1014_BAD_GATEWAY": 1014,
    "WS_1015_TLS_HANDSHAKE": 1015,
}

DEPRECATED_NAMES: dict[str, str] = {
    "HTTP_413_REQUEST_ENTITY_TOO_LARGE": "HTTP_413_CONTENT_TOO_LARGE",
    "HTTP_414_REQUEST_URI_TOO_LONG": "HTTP_414_URI_TOO_LONG",
    "HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE": "HTTP_416_RANGE_NOT_SATISFIABLE",
    "HTTP_422_UNPROCESSABLE_ENTITY": "HTTP_422_UNPROCESSABLE_CONTENT",
}


def test_every_constant_has_its_value() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = {name: getattr(status, name) for name in CURRENT_NAMES}
    assert values == CURRENT_NAMES


@pytest.mark.parametrize("name", sorted(CURRENT_NAMES))
def test_value_matches_the_number_in_the_name(name: str) -> None:
    match = re.fullmatch(r"(?:HTTP|WS)_(\d+)_[A-Z0-9_]+", name)
    assert match is not None
    value = getattr(status, name)
    assert type(value) is int
    assert value == int(match.group(1))


def test_http_names_follow_rfc_9110_phrases() -> None:
    # Python's own phrases moved to RFC 9110 in 3.13; pin the ones that differ before that.
    rfc_9110 = {
        413: "Content Too Large",
        414: "URI Too Long",
        416: "Range Not Satisfiable",
        422: "Unprocessable Content",
    }
    for name, value in CURRENT_NAMES.items():
        if not name.startswith("HTTP_") or value == 306:  # 306 is "(Unused)": Python has no member for it
            continue
        phrase = rfc_9110.get(value, http.HTTPStatus(value).phrase)
        expected = re.sub(r"[^A-Z0-9]+", "_", phrase.upper().replace("'", "")).strip("_")
        assert name == f"HTTP_{value}_{expected}"


def test_websocket_codes_are_the_registered_ones() -> None:
    ws = {name: value for name, value in CURRENT_NAMES.items() if name.startswith("WS_")}
    # 1004 is reserved and 1005/1006 must not be sent, but 1005 and 1006 are still named.
    assert sorted(ws.values()) == [1000, 1001, 1002, 1003, *range(1005, 1016)]
    assert status.WS_1005_NO_STATUS_RCVD == 1005
    assert status.WS_1006_ABNORMAL_CLOSURE == 1006
    assert not hasattr(status, "WS_1004_NO_STATUS_RCVD")
    assert not hasattr(status, "WS_1005_ABNORMAL_CLOSURE")


@pytest.mark.parametrize(("old", "new"), sorted(DEPRECATED_NAMES.items()))
def test_deprecated_alias_warns_and_keeps_its_value(old: str, new: str) -> None:
    with pytest.warns(DeprecationWarning) as record:
        value = getattr(status, old)
    assert value == getattr(status, new)
    assert len(record) == 1
    assert str(record[0].message) == f"'{old}' is deprecated. Use '{new}' instead."
    # The warning points at the code that used the old name, not at starlette/status.py.
    assert Path(record[0].filename) == Path(__file__)


def test_deprecated_alias_warns_on_every_access() -> None:
    for _ in range(2):
        with pytest.warns(DeprecationWarning, match="HTTP_422_UNPROCESSABLE_CONTENT"):
            assert status.HTTP_422_UNPROCESSABLE_ENTITY == 422


def test_deprecated_alias_can_be_imported_by_name() -> None:
    with pytest.warns(DeprecationWarning, match="'HTTP_413_REQUEST_ENTITY_TOO_LARGE' is deprecated"):
        from starlette.status import HTTP_413_REQUEST_ENTITY_TOO_LARGE
    assert HTTP_413_REQUEST_ENTITY_TOO_LARGE == 413


def test_current_names_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from starlette.status import HTTP_413_CONTENT_TOO_LARGE, HTTP_422_UNPROCESSABLE_CONTENT

    assert (HTTP_413_CONTENT_TOO_LARGE, HTTP_422_UNPROCESSABLE_CONTENT) == (413, 422)


def test_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'starlette.status' has no attribute 'HTTP_999_NOPE'"):
        status.HTTP_999_NOPE  # noqa: B018 - the access is the test
    assert not hasattr(status, "HTTP_419_PAGE_EXPIRED")


def test_all_lists_every_name_including_the_deprecated_ones() -> None:
    assert sorted(status.__all__) == sorted([*CURRENT_NAMES, *DEPRECATED_NAMES])
    assert len(status.__all__) == len(set(status.__all__))


def test_star_import_provides_every_name() -> None:
    namespace: dict[str, Any] = {}
    with pytest.warns(DeprecationWarning) as record:
        exec("from starlette.status import *", namespace)
    assert {name: namespace[name] for name in CURRENT_NAMES} == CURRENT_NAMES
    assert {name: namespace[name] for name in DEPRECATED_NAMES} == {
        old: CURRENT_NAMES[new] for old, new in DEPRECATED_NAMES.items()
    }
    assert sorted(str(w.message).split("'")[1] for w in record) == sorted(DEPRECATED_NAMES)


def test_dir_lists_the_deprecated_names() -> None:
    names = dir(status)
    assert set(DEPRECATED_NAMES) <= set(names)
    assert set(CURRENT_NAMES) <= set(names)
    assert names == sorted(names)
