"""starlette.exceptions: HTTPException and WebSocketException as values (their handling by the
exception middleware is tested with the middleware)."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given, strategies as st

from starlette.exceptions import HTTPException, WebSocketException

KNOWN_STATUS_CODES = [100, 200, 204, 301, 400, 401, 403, 404, 405, 418, 422, 429, 500, 503]


@pytest.mark.parametrize(
    ("status_code", "phrase"),
    [(400, "Bad Request"), (404, "Not Found"), (405, "Method Not Allowed"), (500, "Internal Server Error")],
)
def test_http_exception_detail_defaults_to_the_reason_phrase(status_code: int, phrase: str) -> None:
    exc = HTTPException(status_code)
    assert exc.status_code == status_code
    assert exc.detail == phrase
    assert exc.headers is None


def test_http_exception_keeps_detail_and_headers() -> None:
    headers = {"WWW-Authenticate": "Bearer"}
    exc = HTTPException(status_code=401, detail="Token expired", headers=headers)
    assert exc.status_code == 401
    assert exc.detail == "Token expired"
    assert exc.headers == {"WWW-Authenticate": "Bearer"}


def test_http_exception_positional_arguments() -> None:
    exc = HTTPException(403, "Nope", {"X-Reason": "policy"})
    assert (exc.status_code, exc.detail, exc.headers) == (403, "Nope", {"X-Reason": "policy"})


def test_http_exception_empty_detail_is_kept() -> None:
    assert HTTPException(404, detail="").detail == ""


def test_http_exception_without_detail_needs_a_known_status_code() -> None:
    with pytest.raises(ValueError):
        HTTPException(599)
    assert HTTPException(599, detail="Custom").detail == "Custom"


def test_http_exception_str_and_repr() -> None:
    exc = HTTPException(404)
    assert str(exc) == "404: Not Found"
    assert repr(exc) == "HTTPException(status_code=404, detail='Not Found')"

    exc = HTTPException(400, detail="Bad 'input'")
    assert str(exc) == "400: Bad 'input'"
    assert repr(exc) == "HTTPException(status_code=400, detail=\"Bad 'input'\")"


def test_http_exception_repr_uses_the_subclass_name() -> None:
    class CustomHTTPException(HTTPException):
        pass

    exc = CustomHTTPException(status_code=409, detail="Conflict!")
    assert repr(exc) == "CustomHTTPException(status_code=409, detail='Conflict!')"
    assert str(exc) == "409: Conflict!"


def test_http_exception_is_an_exception() -> None:
    with pytest.raises(HTTPException) as info:
        raise HTTPException(status_code=418)
    assert isinstance(info.value, Exception)
    assert info.value.detail == "I'm a Teapot"


@given(status_code=st.sampled_from(KNOWN_STATUS_CODES), detail=st.none() | st.text())
def test_http_exception_survives_pickle_and_copy(status_code: int, detail: str | None) -> None:
    exc = HTTPException(status_code=status_code, detail=detail, headers={"X-A": "1"})
    for clone in (pickle.loads(pickle.dumps(exc)), copy.copy(exc), copy.deepcopy(exc)):
        assert type(clone) is HTTPException
        assert (clone.status_code, clone.detail, clone.headers) == (exc.status_code, exc.detail, exc.headers)
        assert str(clone) == str(exc)


def test_websocket_exception_defaults() -> None:
    exc = WebSocketException(code=1008)
    assert exc.code == 1008
    assert exc.reason == ""
    assert str(exc) == "1008: "
    assert repr(exc) == "WebSocketException(code=1008, reason='')"


def test_websocket_exception_with_reason() -> None:
    exc = WebSocketException(1011, "Something broke")
    assert exc.code == 1011
    assert exc.reason == "Something broke"
    assert str(exc) == "1011: Something broke"
    assert repr(exc) == "WebSocketException(code=1011, reason='Something broke')"


def test_websocket_exception_none_reason_becomes_empty() -> None:
    assert WebSocketException(code=1000, reason=None).reason == ""


def test_websocket_exception_repr_uses_the_subclass_name() -> None:
    class PolicyViolation(WebSocketException):
        pass

    assert repr(PolicyViolation(1008, "no")) == "PolicyViolation(code=1008, reason='no')"


@given(code=st.integers(min_value=1000, max_value=4999), reason=st.none() | st.text())
def test_websocket_exception_survives_pickle(code: int, reason: str | None) -> None:
    exc = WebSocketException(code=code, reason=reason)
    clone = pickle.loads(pickle.dumps(exc))
    assert type(clone) is WebSocketException
    assert (clone.code, clone.reason) == (code, reason or "")
