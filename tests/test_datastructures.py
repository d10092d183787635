from __future__ import annotations

import copy
import io
import pickle
import sys
import threading
from collections.abc import Iterator
from tempfile import SpooledTemporaryFile
from typing import Any, BinaryIO, cast
from urllib.parse import parse_qsl, urlencode, urlsplit as stdlib_urlsplit

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # pragma: no cover - Python 3.10 only
    from typing_extensions import assert_type

from starlette.datastructures import (
    URL,
    Address,
    CommaSeparatedStrings,
    FormData,
    Headers,
    ImmutableMultiDict,
    MultiDict,
    MutableHeaders,
    QueryParams,
    Secret,
    State,
    UploadFile,
    URLPath,
    urlsplit,
)
from tests.strategies import (
    header_names,
    header_values,
    hostnames,
    multidict_items,
    multidict_keys,
    multidict_values,
    query_items,
    query_strings,
    raw_headers,
    url_fragments,
    url_paths,
    urls,
)

# --------------------------------------------------------------------------------------------- URL


def test_url_properties() -> None:
    url = URL("https://user:secret@Example.org:123/path/to/somewhere?abc=123#anchor")
    assert url.scheme == "https"
    assert url.netloc == "user:secret@Example.org:123"
    assert url.hostname == "example.org"
    assert url.port == 123
    assert url.path == "/path/to/somewhere"
    assert url.query == "abc=123"
    assert url.fragment == "anchor"
    assert url.username == "user"
    assert url.password == "secret"
    assert url.is_secure
    assert url.components == stdlib_urlsplit("https://user:secret@Example.org:123/path/to/somewhere?abc=123#anchor")
    assert str(url) == "https://user:secret@Example.org:123/path/to/somewhere?abc=123#anchor"


def test_url_properties_of_a_bare_path() -> None:
    url = URL("/path?x=1")
    assert url.scheme == ""
    assert url.netloc == ""
    assert url.hostname is None
    assert url.port is None
    assert url.username is None
    assert url.password is None
    assert url.path == "/path"
    assert url.query == "x=1"
    assert not url.is_secure


def test_url_default_is_empty() -> None:
    assert str(URL()) == ""
    assert URL() == ""


@pytest.mark.parametrize(
    ("scheme", "secure"), [("http", False), ("https", True), ("ws", False), ("wss", True), ("ftp", False)]
)
def test_url_is_secure(scheme: str, secure: bool) -> None:
    assert URL(f"{scheme}://example.com/").is_secure is secure


def test_url_invalid_port_raises() -> None:
    with pytest.raises(ValueError):
        _ = URL("http://example.com:abc/").port


def test_url_parsing_is_cached() -> None:
    assert urlsplit.__wrapped__ is stdlib_urlsplit
    assert isinstance(urlsplit.cache_info().hits, int)
    url = URL("http://cached.example.com/some/path")
    first = url.components
    assert URL("http://cached.example.com/some/path").components is first


def test_url_replace_components() -> None:
    url = URL("https://example.org:123/path/to/somewhere?abc=123#anchor")
    assert url.replace(scheme="http") == "http://example.org:123/path/to/somewhere?abc=123#anchor"
    assert url.replace(path="/new") == "https://example.org:123/new?abc=123#anchor"
    assert url.replace(query="x=y") == "https://example.org:123/path/to/somewhere?x=y#anchor"
    assert url.replace(fragment="") == "https://example.org:123/path/to/somewhere?abc=123"
    assert url.replace(netloc="other.org") == "https://other.org/path/to/somewhere?abc=123#anchor"
    assert url.replace(port=None) == "https://example.org/path/to/somewhere?abc=123#anchor"
    assert url.replace(port=8080) == "https://example.org:8080/path/to/somewhere?abc=123#anchor"
    assert url.replace(hostname="new.org") == "https://new.org:123/path/to/somewhere?abc=123#anchor"
    assert url.replace(username="u") == "https://u@example.org:123/path/to/somewhere?abc=123#anchor"
    assert url.replace(username="u", password="p") == "https://u:p@example.org:123/path/to/somewhere?abc=123#anchor"
    # A password alone has no username to attach to.
    assert url.replace(password="p") == "https://example.org:123/path/to/somewhere?abc=123#anchor"
    assert type(url.replace(path="/")) is URL


def test_url_replace_keeps_userinfo_and_port() -> None:
    url = URL("http://user:pw@example.org:8000/x")
    assert url.replace(hostname="other.org") == "http://user:pw@other.org:8000/x"
    assert url.replace(port=9000) == "http://user:pw@example.org:9000/x"
    assert url.replace(username="me") == "http://me:pw@example.org:8000/x"
    assert url.replace(username=None, password=None) == "http://example.org:8000/x"


def test_url_replace_ipv6() -> None:
    url = URL("http://[fe::2]:12345/path")
    assert url.hostname == "fe::2"
    assert url.replace(port=8080) == "http://[fe::2]:8080/path"
    assert url.replace(port=None) == "http://[fe::2]/path"
    assert url.replace(username="u") == "http://u@[fe::2]:12345/path"
    assert URL("http://[fe::2]/").replace(port=81) == "http://[fe::2]:81/"
    # A bare IPv6 host name gets its brackets; a bracketed one is kept as is.
    assert URL("http://example.org:1/").replace(hostname="::1") == "http://[::1]:1/"
    assert URL("http://example.org/").replace(hostname="[::1]") == "http://[::1]/"


def test_url_replace_netloc_parts_of_a_bare_path() -> None:
    assert URL("/path").replace(port=8000) == "//:8000/path"
    assert URL("/path").replace(hostname="example.com") == "//example.com/path"


def test_url_subclass_replace_keeps_class() -> None:
    class MyURL(URL):
        pass

    assert type(MyURL("http://a.com/").replace(path="/b")) is MyURL


def test_url_from_components() -> None:
    url = URL(scheme="https", netloc="example.org", path="/p", query="a=1", fragment="f")
    assert url == "https://example.org/p?a=1#f"
    assert URL(scheme="http", hostname="example.org", port=8000, path="/") == "http://example.org:8000/"
    assert URL(path="/only/path") == "/only/path"


def test_url_source_assertions() -> None:
    scope = {"type": "http", "path": "/", "headers": []}
    with pytest.raises(AssertionError, match='"url" and "scope"'):
        URL("http://a/", scope=scope)
    with pytest.raises(AssertionError, match='"scope" and "\\*\\*components"'):
        URL(scope=scope, path="/")
    with pytest.raises(AssertionError, match='"url" and "\\*\\*components"'):
        URL("http://a/", path="/")


def make_scope(**kwargs: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": "http", "path": "/path/to/somewhere", "query_string": b"", "headers": []}
    scope.update(kwargs)
    return scope


def test_url_from_scope_server() -> None:
    scope = make_scope(scheme="https", server=("example.org", 123), query_string=b"abc=123")
    url = URL(scope=scope)
    assert url == "https://example.org:123/path/to/somewhere?abc=123"
    assert repr(url) == "URL('https://example.org:123/path/to/somewhere?abc=123')"


@pytest.mark.parametrize(("scheme", "port"), [("http", 80), ("https", 443), ("ws", 80), ("wss", 443)])
def test_url_from_scope_default_ports_are_omitted(scheme: str, port: int) -> None:
    assert (
        URL(scope=make_scope(scheme=scheme, server=("example.org", port)))
        == f"{scheme}://example.org/path/to/somewhere"
    )
    assert (
        URL(scope=make_scope(scheme=scheme, server=("example.org", 8000)))
        == f"{scheme}://example.org:8000/path/to/somewhere"
    )


def test_url_from_scope_https_on_port_80_keeps_port() -> None:
    assert (
        URL(scope=make_scope(scheme="https", server=("example.org", 80))) == "https://example.org:80/path/to/somewhere"
    )


def test_url_from_scope_unknown_scheme_and_missing_port() -> None:
    assert URL(scope=make_scope(scheme="ftp", server=("example.org", 21))) == "ftp://example.org:21/path/to/somewhere"
    assert URL(scope=make_scope(server=("/tmp/sock", None))) == "http:///tmp/sock/path/to/somewhere"


def test_url_from_scope_host_header_wins() -> None:
    scope = make_scope(
        scheme="http",
        server=("10.0.0.1", 8000),
        headers=[(b"accept", b"*/*"), (b"host", b"example.com:8080"), (b"host", b"ignored.com")],
    )
    assert URL(scope=scope) == "http://example.com:8080/path/to/somewhere"


def test_url_from_scope_without_server() -> None:
    assert URL(scope=make_scope(query_string=b"a=1")) == "/path/to/somewhere?a=1"


def test_url_from_scope_minimal() -> None:
    # No scheme, query string nor headers keys: defaults apply.
    assert URL(scope={"type": "http", "path": "/p", "server": ("testserver", 80)}) == "http://testserver/p"


def test_url_from_scope_uses_full_path() -> None:
    # `scope["path"]` already includes `root_path` (ASGI spec): it is not prepended again.
    scope = make_scope(root_path="/api", path="/api/users", server=("example.org", 80))
    assert URL(scope=scope) == "http://example.org/api/users"


def test_url_from_scope_query_string_decoding() -> None:
    assert URL(scope=make_scope(query_string="q=é".encode())).query == "q=é"
    # Not UTF-8: decoded as latin-1 instead of failing.
    assert URL(scope=make_scope(query_string=b"q=\xff")).query == "q=\xff"


def test_url_query_params_helpers() -> None:
    url = URL("https://example.org/path/?page=3&tag=a&tag=b")
    assert url.include_query_params(page=4) == "https://example.org/path/?tag=a&tag=b&page=4"
    assert url.include_query_params(tag="c", extra=1) == "https://example.org/path/?page=3&tag=c&extra=1"
    assert url.replace_query_params(order="name") == "https://example.org/path/?order=name"
    assert url.replace_query_params() == "https://example.org/path/"
    assert url.remove_query_params("tag") == "https://example.org/path/?page=3"
    assert url.remove_query_params(["page", "tag"]) == "https://example.org/path/"
    assert url.remove_query_params(("missing",)) == "https://example.org/path/?page=3&tag=a&tag=b"


def test_url_query_params_helpers_encode() -> None:
    url = URL("http://a.com/?blank=&x=a+b")
    assert url.include_query_params(q="1 2&3") == "http://a.com/?blank=&x=a+b&q=1+2%263"
    assert url.remove_query_params("x") == "http://a.com/?blank="


def test_url_equality() -> None:
    url = URL("http://example.org/")
    assert url == URL("http://example.org/")
    assert url == "http://example.org/"
    assert "http://example.org/" == url
    assert url != URL("http://example.org/other")
    assert url != "http://example.org"
    assert url != 123
    with pytest.raises(TypeError):
        hash(url)


def test_url_repr_hides_password() -> None:
    assert repr(URL("https://user:pw@example.org/")) == "URL('https://user:********@example.org/')"
    assert repr(URL("https://user@example.org/")) == "URL('https://user@example.org/')"
    assert repr(URL("/path")) == "URL('/path')"
    # str() is the real URL.
    assert str(URL("https://user:pw@example.org/")) == "https://user:pw@example.org/"


def test_url_from_another_url() -> None:
    url = URL(URL("http://a.com/x"))  # type: ignore[arg-type]  # tolerated, though typed as str
    assert str(url) == "http://a.com/x"
    assert type(str(url)) is str
    assert url.path == "/x"
    from_path = URL(URLPath("/y", protocol="http"))
    assert type(str(from_path)) is str
    assert from_path == "/y"


def test_url_pickles() -> None:
    url = URL("http://a.com/?x=1")
    assert pickle.loads(pickle.dumps(url)) == url


@given(urls())
def test_url_str_round_trip(text: str) -> None:
    url = URL(text)
    assert str(url) == text
    assert URL(str(url)) == url
    components = url.components
    rebuilt = URL(
        scheme=components.scheme,
        netloc=components.netloc,
        path=components.path,
        query=components.query,
        fragment=components.fragment,
    )
    assert rebuilt == url
    assert url.replace() == url


@given(urls(), hostnames(), st.none() | st.integers(1, 65535))
def test_url_replace_netloc_parts_property(text: str, hostname: str, port: int | None) -> None:
    url = URL(text)
    new = url.replace(hostname=hostname, port=port)
    assert new.hostname == hostname
    assert new.port == port
    assert new.username == url.username
    assert new.password == url.password
    assert (new.scheme, new.path, new.query, new.fragment) == (url.scheme, url.path, url.query, url.fragment)
    # Changing only the port keeps the host exactly as written (IPv6 brackets included).
    assert url.replace(port=port).hostname == url.hostname
    assert url.replace(port=port).port == port


@given(urls(), url_paths(), url_fragments())
def test_url_replace_other_parts_property(text: str, path: str, fragment: str) -> None:
    url = URL(text)
    new = url.replace(path=path, fragment=fragment)
    assert new.path == path
    assert new.fragment == fragment
    assert (new.scheme, new.netloc, new.query) == (url.scheme, url.netloc, url.query)


@given(urls(), query_items(4))
def test_url_replace_query_params_property(text: str, items: list[tuple[str, str]]) -> None:
    url = URL(text).replace_query_params(**{f"k{i}": value for i, (_, value) in enumerate(items)})
    assert parse_qsl(url.query, keep_blank_values=True) == [(f"k{i}", value) for i, (_, value) in enumerate(items)]


# ----------------------------------------------------------------------------------------- URLPath


def test_urlpath_is_a_str() -> None:
    path = URLPath("/users/1", protocol="http", host="example.com")
    assert path == "/users/1"
    assert isinstance(path, str)
    assert path.protocol == "http"
    assert path.host == "example.com"
    plain = URLPath("/x")
    assert (plain.protocol, plain.host) == ("", "")


def test_urlpath_rejects_unknown_protocol() -> None:
    with pytest.raises(AssertionError):
        URLPath("/", protocol="ftp")


@pytest.mark.parametrize(
    ("protocol", "base", "expected"),
    [
        ("http", "http://example.org/", "http://example.org/path"),
        ("http", "https://example.org/", "https://example.org/path"),
        ("http", "ws://example.org/", "http://example.org/path"),
        ("http", "wss://example.org/", "https://example.org/path"),
        ("websocket", "http://example.org/", "ws://example.org/path"),
        ("websocket", "https://example.org/", "wss://example.org/path"),
        ("websocket", "wss://example.org/", "wss://example.org/path"),
        ("", "https://example.org/", "https://example.org/path"),
        ("", "ws://example.org:8000", "ws://example.org:8000/path"),
    ],
)
def test_urlpath_make_absolute_url_scheme(protocol: str, base: str, expected: str) -> None:
    assert URLPath("/path", protocol=protocol).make_absolute_url(base) == expected
    assert URLPath("/path", protocol=protocol).make_absolute_url(URL(base)) == expected


def test_urlpath_make_absolute_url_host_and_base_path() -> None:
    absolute = URLPath("/path", protocol="http", host="other.org").make_absolute_url("https://example.org/root/")
    assert isinstance(absolute, URL)
    assert absolute == "https://other.org/root/path"
    assert URLPath("/a").make_absolute_url("http://example.org/root") == "http://example.org/root/a"
    assert URLPath("/a").make_absolute_url(URL("http://u:p@example.org:81/")) == "http://u:p@example.org:81/a"


# ---------------------------------------------------------------------------- Secret / CSS / State


def test_secret() -> None:
    value = Secret("a-secret")
    assert repr(value) == "Secret('**********')"
    assert str(value) == "a-secret"
    assert bool(value) is True
    assert bool(Secret("")) is False
    assert "a-secret" not in f"{value!r}"


def test_comma_separated_strings_from_str() -> None:
    csv = CommaSeparatedStrings("localhost, 127.0.0.1,example.com ")
    assert list(csv) == ["localhost", "127.0.0.1", "example.com"]
    assert len(csv) == 3
    assert csv[0] == "localhost"
    assert csv[-1] == "example.com"
    assert csv[1:] == ["127.0.0.1", "example.com"]
    assert "localhost" in csv
    assert repr(csv) == "CommaSeparatedStrings(['localhost', '127.0.0.1', 'example.com'])"
    assert str(csv) == "'localhost', '127.0.0.1', 'example.com'"


def test_comma_separated_strings_quotes_and_empty() -> None:
    assert list(CommaSeparatedStrings("'a, b', \"c\",d")) == ["a, b", "c", "d"]
    assert list(CommaSeparatedStrings("")) == []
    assert list(CommaSeparatedStrings("a,,b")) == ["a", "b"]
    with pytest.raises(ValueError):
        CommaSeparatedStrings("'unterminated")


def test_comma_separated_strings_from_sequence() -> None:
    csv = CommaSeparatedStrings(("a", "b c"))
    assert list(csv) == ["a", "b c"]
    assert repr(csv) == "CommaSeparatedStrings(['a', 'b c'])"
    assert str(csv) == "'a', 'b c'"
    assert list(reversed(csv)) == ["b c", "a"]
    assert csv.index("b c") == 1


@given(st.lists(st.text(alphabet="abcxyz019.-_:/ ", min_size=1).map(str.strip).filter(bool), max_size=5))
def test_comma_separated_strings_round_trip(items: list[str]) -> None:
    assert list(CommaSeparatedStrings(", ".join(items))) == items
    assert list(CommaSeparatedStrings(items)) == items


def test_state() -> None:
    state = State()
    state.a = 1
    assert state.a == 1
    assert state._state == {"a": 1}
    state.a = 2
    assert state.a == 2
    del state.a
    with pytest.raises(AttributeError, match="^'State' object has no attribute 'a'$"):
        state.a  # noqa: B018
    with pytest.raises(KeyError):
        del state.missing


def test_state_shares_given_dict() -> None:
    backing: dict[str, Any] = {"db": "conn"}
    state = State(backing)
    assert state.db == "conn"
    state.other = 1
    assert backing == {"db": "conn", "other": 1}
    assert getattr(state, "nope", None) is None
    assert not hasattr(state, "nope")


def test_state_copy_and_pickle() -> None:
    state = State({"a": 1})
    shallow = copy.copy(state)
    assert shallow.a == 1
    shallow.b = 2
    assert state.b == 2  # a shallow copy shares the dict
    deep = copy.deepcopy(state)
    deep.c = 3
    assert not hasattr(state, "c")
    restored = pickle.loads(pickle.dumps(state))
    assert restored._state == {"a": 1, "b": 2}


def test_state_subclass_error_message() -> None:
    class MyState(State):
        pass

    with pytest.raises(AttributeError, match="^'MyState' object has no attribute 'x'$"):
        MyState().x  # noqa: B018


def test_address() -> None:
    address = Address("127.0.0.1", 8000)
    host, port = address
    assert (host, port) == ("127.0.0.1", 8000)
    assert address.host == "127.0.0.1"
    assert address.port == 8000
    assert address == ("127.0.0.1", 8000)
    assert repr(address) == "Address(host='127.0.0.1', port=8000)"
    assert Address(host="h", port=1) == Address("h", 1)


# ------------------------------------------------------------------------------------ MultiDicts


def test_immutable_multidict() -> None:
    md = ImmutableMultiDict([("a", "123"), ("a", "456"), ("b", "789")])
    assert "a" in md
    assert "A" not in md
    assert "c" not in md
    assert md["a"] == "456"
    assert md.get("a") == "456"
    assert md.get("nope") is None
    assert md.getlist("a") == ["123", "456"]
    assert md.getlist("nope") == []
    assert list(md.keys()) == ["a", "b"]
    assert list(md.values()) == ["456", "789"]
    assert list(md.items()) == [("a", "456"), ("b", "789")]
    assert md.multi_items() == [("a", "123"), ("a", "456"), ("b", "789")]
    assert len(md) == 2
    assert list(md) == ["a", "b"]
    assert dict(md) == {"a": "456", "b": "789"}
    assert repr(md) == "ImmutableMultiDict([('a', '123'), ('a', '456'), ('b', '789')])"
    with pytest.raises(KeyError):
        md["nope"]


def test_immutable_multidict_sources() -> None:
    pairs = [("a", "1"), ("b", "2")]
    assert ImmutableMultiDict({"a": "1", "b": "2"}).multi_items() == pairs
    assert ImmutableMultiDict(pairs).multi_items() == pairs
    assert ImmutableMultiDict(iter(pairs)).multi_items() == pairs
    assert ImmutableMultiDict(ImmutableMultiDict(pairs)).multi_items() == pairs
    assert ImmutableMultiDict(MultiDict([("a", "1"), ("a", "3")])).multi_items() == [("a", "1"), ("a", "3")]
    assert ImmutableMultiDict().multi_items() == []
    assert ImmutableMultiDict(a="1", b="2").multi_items() == pairs
    assert ImmutableMultiDict([("a", "1")], a="2", c="3").multi_items() == [("a", "1"), ("a", "2"), ("c", "3")]
    with pytest.raises(AssertionError, match="Too many arguments."):
        ImmutableMultiDict([("a", "1")], [("b", "2")])


def test_multi_items_is_a_copy() -> None:
    source = [("a", "1")]
    md = MultiDict(source)
    md.multi_items().append(("b", "2"))
    md.append("c", "3")
    assert source == [("a", "1")]
    assert md.multi_items() == [("a", "1"), ("c", "3")]


def test_immutable_multidict_equality() -> None:
    assert ImmutableMultiDict([("a", "1"), ("b", "2")]) == ImmutableMultiDict([("b", "2"), ("a", "1")])
    assert ImmutableMultiDict([("a", "1"), ("a", "2")]) == ImmutableMultiDict([("a", "2"), ("a", "1")])
    assert ImmutableMultiDict([("a", "1"), ("a", "2")]) != ImmutableMultiDict([("a", "2")])
    assert ImmutableMultiDict({"a": "1"}) != {"a": "1"}
    # Only multidicts of the same class compare equal.
    assert ImmutableMultiDict({"a": "1"}) != MultiDict({"a": "1"})
    assert MultiDict({"a": "1"}) != ImmutableMultiDict({"a": "1"})
    assert MultiDict({"a": "1"}) == MultiDict({"a": "1"})
    with pytest.raises(TypeError):
        hash(ImmutableMultiDict())


def test_multidict_equality_of_unorderable_values() -> None:
    first, second = object(), object()
    assert ImmutableMultiDict([("a", first), ("a", second)]) == ImmutableMultiDict([("a", second), ("a", first)])
    assert ImmutableMultiDict([("a", first), ("a", None)]) == ImmutableMultiDict([("a", None), ("a", first)])
    assert ImmutableMultiDict([("a", first), ("a", first)]) != ImmutableMultiDict([("a", first), ("a", second)])
    assert ImmutableMultiDict([("a", first)]) != ImmutableMultiDict([("a", first), ("a", first)])


def test_multidict_mutations() -> None:
    md = MultiDict([("a", "123"), ("a", "456"), ("b", "789")])
    md["a"] = "xyz"
    assert md.multi_items() == [("b", "789"), ("a", "xyz")]
    assert md["a"] == "xyz"

    del md["a"]
    assert md.multi_items() == [("b", "789")]
    with pytest.raises(KeyError):
        del md["a"]

    md.append("b", "2")
    assert md.getlist("b") == ["789", "2"]
    assert md["b"] == "2"

    assert md.pop("b") == "2"
    assert md.multi_items() == []
    assert md.pop("b") is None
    assert md.pop("b", "default") == "default"

    md.setlist("c", ["1", "2"])
    md.setlist("d", ["3"])
    assert md.multi_items() == [("c", "1"), ("c", "2"), ("d", "3")]
    md.setlist("c", [])
    assert md.multi_items() == [("d", "3")]
    assert "c" not in md

    assert md.setdefault("d", "x") == "3"
    assert md.setdefault("e", "5") == "5"
    assert md.setdefault("f") is None
    assert md.multi_items() == [("d", "3"), ("e", "5"), ("f", None)]

    assert md.popitem() == ("f", None)
    md.append("d", "4")
    assert md.poplist("d") == ["3", "4"]
    assert md.poplist("d") == []
    assert md.multi_items() == [("e", "5")]

    md.clear()
    assert md.multi_items() == []
    assert len(md) == 0
    with pytest.raises(KeyError):
        md.popitem()
    assert repr(MultiDict([("a", 1)])) == "MultiDict([('a', 1)])"


def test_multidict_update() -> None:
    md = MultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    md.update({"a": "x"}, c="y")
    assert md.multi_items() == [("b", "2"), ("a", "x"), ("c", "y")]
    md.update(MultiDict([("b", "4"), ("b", "5")]))
    assert md.multi_items() == [("a", "x"), ("c", "y"), ("b", "4"), ("b", "5")]
    assert md["b"] == "5"
    md.update([("d", "6")])
    md.update()
    assert md.multi_items() == [("a", "x"), ("c", "y"), ("b", "4"), ("b", "5"), ("d", "6")]


class MultiDictMachine(RuleBasedStateMachine):
    """MultiDict against a reference model: the list of pairs plus the order of the distinct keys."""

    def __init__(self) -> None:
        super().__init__()
        self.md = MultiDict()
        self.pairs: list[tuple[str, str | None]] = []
        self.order: list[str] = []

    def _remove(self, key: str) -> None:
        self.pairs = [(k, v) for k, v in self.pairs if k != key]
        if key in self.order:
            self.order.remove(key)

    def _add(self, key: str, value: str | None) -> None:
        self.pairs.append((key, value))
        if key not in self.order:
            self.order.append(key)

    def _last(self, key: str) -> str | None:
        return [v for k, v in self.pairs if k == key][-1]

    @rule(key=multidict_keys(), value=multidict_values())
    def setitem(self, key: str, value: str) -> None:
        self.md[key] = value
        in_order = key in self.order
        self.pairs = [(k, v) for k, v in self.pairs if k != key]
        if not in_order:
            self.order.append(key)
        self.pairs.append((key, value))

    @rule(key=multidict_keys(), value=multidict_values())
    def append(self, key: str, value: str) -> None:
        self.md.append(key, value)
        self._add(key, value)

    @rule(key=multidict_keys())
    def delitem(self, key: str) -> None:
        if key in self.order:
            del self.md[key]
        else:
            with pytest.raises(KeyError):
                del self.md[key]
        self._remove(key)

    @rule(key=multidict_keys())
    def pop(self, key: str) -> None:
        expected = self._last(key) if key in self.order else "default"
        assert self.md.pop(key, "default") == expected
        self._remove(key)

    @precondition(lambda self: bool(self.order))
    @rule()
    def popitem(self) -> None:
        key = self.order[-1]
        assert self.md.popitem() == (key, self._last(key))
        self._remove(key)

    @rule(key=multidict_keys())
    def poplist(self, key: str) -> None:
        assert self.md.poplist(key) == [v for k, v in self.pairs if k == key]
        self._remove(key)

    @rule(key=multidict_keys(), values=st.lists(multidict_values(), max_size=3))
    def setlist(self, key: str, values: list[str]) -> None:
        self.md.setlist(key, list(values))
        if not values:
            self._remove(key)
            return
        in_order = key in self.order
        self.pairs = [(k, v) for k, v in self.pairs if k != key] + [(key, v) for v in values]
        if not in_order:
            self.order.append(key)

    @rule(key=multidict_keys(), value=st.none() | multidict_values())
    def setdefault(self, key: str, value: str | None) -> None:
        expected = self._last(key) if key in self.order else value
        assert self.md.setdefault(key, value) == expected
        if key not in self.order:
            self._add(key, value)

    @rule(items=multidict_items(4))
    def update(self, items: list[tuple[str, str]]) -> None:
        self.md.update(items)
        new_keys = {k for k, _ in items}
        self.pairs = [(k, v) for k, v in self.pairs if k not in new_keys] + list(items)
        for key, _ in items:
            if key not in self.order:
                self.order.append(key)

    @rule()
    def clear(self) -> None:
        self.md.clear()
        self.pairs = []
        self.order = []

    @invariant()
    def matches_model(self) -> None:
        assert self.md.multi_items() == self.pairs
        assert list(self.md.keys()) == self.order
        assert len(self.md) == len(self.order)
        for key in self.order:
            assert self.md[key] == self._last(key)
            assert self.md.getlist(key) == [v for k, v in self.pairs if k == key]
        assert self.md == MultiDict(self.pairs)


TestMultiDictMachine = MultiDictMachine.TestCase
TestMultiDictMachine.settings = settings(max_examples=60, stateful_step_count=30)


@given(multidict_items())
def test_immutable_multidict_model(items: list[tuple[str, str]]) -> None:
    md = ImmutableMultiDict(items)
    assert md.multi_items() == items
    assert list(md.keys()) == list(dict.fromkeys(k for k, _ in items))
    for key in md:
        assert md[key] == [v for k, v in items if k == key][-1]
        assert md.getlist(key) == [v for k, v in items if k == key]
    assert md == ImmutableMultiDict(list(reversed(items)))


# ------------------------------------------------------------------------------------ QueryParams


def test_queryparams() -> None:
    q = QueryParams("a=123&a=456&b=789")
    assert "a" in q
    assert q["a"] == "456"
    assert q.getlist("a") == ["123", "456"]
    assert list(q.keys()) == ["a", "b"]
    assert list(q.values()) == ["456", "789"]
    assert list(q.items()) == [("a", "456"), ("b", "789")]
    assert len(q) == 2
    assert dict(q) == {"a": "456", "b": "789"}
    assert str(q) == "a=123&a=456&b=789"
    assert repr(q) == "QueryParams('a=123&a=456&b=789')"


def test_queryparams_sources() -> None:
    assert QueryParams({"a": "123", "b": "456"}) == QueryParams([("a", "123"), ("b", "456")])
    assert QueryParams({"a": "123", "b": "456"}) == QueryParams("a=123&b=456")
    assert QueryParams({"a": "123", "b": "456"}) == QueryParams({"b": "456", "a": "123"})
    assert QueryParams() == QueryParams({})
    assert QueryParams([("a", "123"), ("a", "456")]) == QueryParams("a=123&a=456")
    assert QueryParams({"a": "123", "b": "456"}) != QueryParams({"a": "123"})
    assert QueryParams(b"a=%C3%A9&b=x+y") == QueryParams({"a": "é", "b": "x y"})
    assert QueryParams(b"a=\xe9") == QueryParams({"a": "é"})  # raw bytes are latin-1
    assert QueryParams("a=1", b="2").multi_items() == [("a", "1"), ("b", "2")]
    assert QueryParams(b"a=1", b="2").multi_items() == [("a", "1"), ("b", "2")]
    assert QueryParams(ImmutableMultiDict([("a", "1")])).multi_items() == [("a", "1")]
    assert QueryParams(a="1").multi_items() == [("a", "1")]
    assert QueryParams("").multi_items() == []
    with pytest.raises(AssertionError, match="Too many arguments."):
        QueryParams("a=1", "b=2")


def test_queryparams_from_string_is_independent() -> None:
    q = QueryParams("a=1&a=2")
    items = q.multi_items()
    items.append(("b", "3"))
    assert q.multi_items() == [("a", "1"), ("a", "2")]
    assert "b" not in q


def test_queryparams_values_become_strings() -> None:
    q = QueryParams({"a": 1, 2: None})
    assert q.multi_items() == [("a", "1"), ("2", "None")]
    assert q["a"] == "1"
    assert str(q) == "a=1&2=None"


def test_queryparams_blank_values_and_encoding() -> None:
    q = QueryParams("a=&b&c=x%20y+z&d=%26")
    assert q.multi_items() == [("a", ""), ("b", ""), ("c", "x y z"), ("d", "&")]
    assert str(q) == "a=&b=&c=x+y+z&d=%26"
    assert str(QueryParams({"é": "a/b"})) == "%C3%A9=a%2Fb"


@given(query_items())
def test_queryparams_str_round_trip(items: list[tuple[str, str]]) -> None:
    q = QueryParams(items)
    assert q.multi_items() == items
    assert QueryParams(str(q)).multi_items() == items
    assert QueryParams(str(q).encode("ascii")).multi_items() == items
    assert str(QueryParams(str(q))) == str(q)


@given(query_strings())
def test_queryparams_from_encoded_string(query: str) -> None:
    q = QueryParams(query)
    assert q.multi_items() == parse_qsl(query, keep_blank_values=True)
    assert str(q) == query


# --------------------------------------------------------------------------------------- Headers


def test_headers() -> None:
    h = Headers(raw=[(b"a", b"123"), (b"a", b"456"), (b"b", b"789")])
    assert "a" in h
    assert "A" in h
    assert "b" in h
    assert "B" in h
    assert "c" not in h
    not_a_name: object = 1
    assert not_a_name not in h
    assert h["a"] == "123"
    assert h["A"] == "123"
    assert h.get("a") == "123"
    assert h.get("nope") is None
    assert h.getlist("a") == ["123", "456"]
    assert h.getlist("nope") == []
    assert h.keys() == ["a", "a", "b"]
    assert h.values() == ["123", "456", "789"]
    assert h.items() == [("a", "123"), ("a", "456"), ("b", "789")]
    assert list(h) == ["a", "a", "b"]
    assert dict(h) == {"a": "123", "b": "789"}
    assert len(h) == 3
    assert repr(h) == "Headers(raw=[(b'a', b'123'), (b'a', b'456'), (b'b', b'789')])"
    assert h == Headers(raw=[(b"a", b"123"), (b"b", b"789"), (b"a", b"456")])
    assert h != [(b"a", b"123"), (b"a", b"456"), (b"b", b"789")]
    with pytest.raises(KeyError, match="nope"):
        h["nope"]
    with pytest.raises(TypeError):
        hash(h)


def test_headers_from_mapping() -> None:
    h = Headers({"Content-Type": "text/html", "X-Latin": "caf\xe9"})
    assert h.raw == [(b"content-type", b"text/html"), (b"x-latin", b"caf\xe9")]
    assert h["content-type"] == "text/html"
    assert h["x-latin"] == "caf\xe9"
    assert repr(h) == "Headers({'content-type': 'text/html', 'x-latin': 'caf\xe9'})"
    with pytest.raises(UnicodeEncodeError):
        Headers({"a": "\u20ac"})


def test_headers_empty() -> None:
    h = Headers()
    assert h.raw == []
    assert len(h) == 0
    assert repr(h) == "Headers({})"
    assert h == Headers(raw=[])


def test_headers_source_assertions() -> None:
    with pytest.raises(AssertionError, match='"headers" and "raw"'):
        Headers(headers={}, raw=[])
    with pytest.raises(AssertionError, match='"headers" and "scope"'):
        Headers(headers={}, scope={"headers": []})
    with pytest.raises(AssertionError, match='"raw" and "scope"'):
        Headers(raw=[], scope={"headers": []})


def test_headers_from_scope_shares_the_list() -> None:
    raw = [(b"a", b"1")]
    scope: dict[str, Any] = {"headers": raw}
    h = Headers(scope=scope)
    assert h.raw is raw
    raw.append((b"b", b"2"))
    assert h["b"] == "2"


def test_headers_from_scope_tuple_is_stored_back_as_list() -> None:
    scope: dict[str, Any] = {"headers": ((b"a", b"1"),)}
    h = MutableHeaders(scope=scope)
    assert scope["headers"] == [(b"a", b"1")]
    h["b"] = "2"
    assert scope["headers"] == [(b"a", b"1"), (b"b", b"2")]


def test_headers_from_scope_with_list_pairs() -> None:
    scope: dict[str, Any] = {"headers": [[b"a", b"1"], [b"b", b"2"], [b"a", b"3"]]}
    h = Headers(scope=scope)
    assert h["a"] == "1"
    assert h.getlist("a") == ["1", "3"]
    assert h.items() == [("a", "1"), ("b", "2"), ("a", "3")]
    assert "b" in h
    mutable = MutableHeaders(scope=scope)
    mutable["a"] = "x"
    assert mutable.items() == [("a", "x"), ("b", "2")]
    del mutable["b"]
    assert mutable.setdefault("a", "y") == "x"
    assert scope["headers"] == [(b"a", b"x")]


def test_headers_from_scope_without_headers_key() -> None:
    message: dict[str, Any] = {"type": "http.response.start", "status": 200}
    h = MutableHeaders(scope=message)
    assert len(h) == 0
    h["content-type"] = "text/plain"
    assert message["headers"] == [(b"content-type", b"text/plain")]


def test_headers_equality_ignores_pair_container_type() -> None:
    assert Headers(scope={"headers": [[b"a", b"1"], [b"b", b"2"]]}) == Headers(raw=[(b"b", b"2"), (b"a", b"1")])
    assert Headers(scope={"headers": [[b"a", b"1"]]}) != Headers(raw=[(b"a", b"2")])


def test_headers_raw_is_not_copied() -> None:
    raw = [(b"a", b"1")]
    assert Headers(raw=raw).raw is raw


def test_headers_mutablecopy() -> None:
    h = Headers(raw=[(b"a", b"1")])
    copy = h.mutablecopy()
    assert isinstance(copy, MutableHeaders)
    copy["b"] = "2"
    assert h.raw == [(b"a", b"1")]
    assert copy.raw == [(b"a", b"1"), (b"b", b"2")]
    assert h == Headers(raw=[(b"a", b"1")])
    assert MutableHeaders(raw=[(b"a", b"1")]) == h


@given(raw_headers())
def test_headers_raw_round_trip(raw: list[tuple[bytes, bytes]]) -> None:
    h = Headers(raw=list(raw))
    assert h.raw == raw
    assert len(h) == len(raw)
    assert h.items() == [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
    for key, _ in raw:
        name = key.decode("latin-1")
        expected = [v.decode("latin-1") for k, v in raw if k == key]
        for variant in (name, name.upper(), name.title()):
            assert variant in h
            assert h[variant] == expected[0]
            assert h.getlist(variant) == expected
    assert h == Headers(raw=list(reversed(raw)))
    assert Headers(raw=h.mutablecopy().raw) == h


@given(st.lists(st.tuples(header_names(), header_values()), max_size=6, unique_by=lambda kv: kv[0].lower()).map(dict))
def test_headers_mapping_round_trip(mapping: dict[str, str]) -> None:
    h = Headers(mapping)
    for key, value in mapping.items():
        assert h[key] == value
        assert h[key.swapcase()] == value
    assert h.values() == list(mapping.values())
    assert h.keys() == [k.lower() for k in mapping]


# -------------------------------------------------------------------------------- MutableHeaders


def test_mutable_headers_setitem() -> None:
    h = MutableHeaders(raw=[(b"a", b"1"), (b"b", b"2"), (b"a", b"3"), (b"a", b"4")])
    h["A"] = "x"
    assert h.raw == [(b"a", b"x"), (b"b", b"2")]
    h["C"] = "y"
    assert h.raw == [(b"a", b"x"), (b"b", b"2"), (b"c", b"y")]
    with pytest.raises(UnicodeEncodeError):
        h["d"] = "\u20ac"


def test_mutable_headers_delitem() -> None:
    h = MutableHeaders(raw=[(b"a", b"1"), (b"b", b"2"), (b"a", b"3")])
    del h["A"]
    assert h.raw == [(b"b", b"2")]
    del h["missing"]  # no error
    assert h.raw == [(b"b", b"2")]


def test_mutable_headers_setdefault_update_append() -> None:
    h = MutableHeaders()
    assert h.setdefault("A", "1") == "1"
    assert h.setdefault("other", "0") == "0"
    del h["other"]
    assert h.setdefault("a", "2") == "1"
    assert h.raw == [(b"a", b"1")]
    h.update({"B": "2", "a": "3"})
    assert h.raw == [(b"a", b"3"), (b"b", b"2")]
    h.append("B", "4")
    assert h.raw == [(b"a", b"3"), (b"b", b"2"), (b"b", b"4")]
    assert h.getlist("b") == ["2", "4"]


def test_mutable_headers_or_operators() -> None:
    h = MutableHeaders({"a": "1"})
    merged = h | {"b": "2"}
    assert isinstance(merged, MutableHeaders)
    assert merged.raw == [(b"a", b"1"), (b"b", b"2")]
    assert h.raw == [(b"a", b"1")]
    raw = h.raw
    h |= {"a": "3", "c": "4"}
    assert h.raw is raw
    assert h.raw == [(b"a", b"3"), (b"c", b"4")]
    h |= Headers({"d": "5"})
    assert h["d"] == "5"
    with pytest.raises(TypeError, match="^Expected a mapping but got str$"):
        h | "a"  # type: ignore[operator]  # deliberately wrong
    with pytest.raises(TypeError, match="^Expected a mapping but got list$"):
        h |= [("a", "b")]  # type: ignore[arg-type]  # deliberately wrong


def test_mutable_headers_raw_is_live() -> None:
    message: dict[str, Any] = {"type": "http.response.start", "status": 200, "headers": [(b"x", b"1")]}
    h = MutableHeaders(scope=message)
    h.append("Set-Cookie", "a=1")
    h["x"] = "2"
    assert message["headers"] == [(b"x", b"2"), (b"set-cookie", b"a=1")]
    assert h.raw is message["headers"]


def test_mutable_headers_add_vary_header() -> None:
    h = MutableHeaders()
    h.add_vary_header("Origin")
    assert h["vary"] == "Origin"
    h.add_vary_header("Accept-Encoding")
    assert h["Vary"] == "Origin, Accept-Encoding"
    assert h.raw == [(b"vary", b"Origin, Accept-Encoding")]


def test_mutable_headers_repr() -> None:
    assert repr(MutableHeaders({"a": "1"})) == "MutableHeaders({'a': '1'})"


@given(raw_headers(), header_names(), header_values())
def test_mutable_headers_against_model(raw: list[tuple[bytes, bytes]], name: str, value: str) -> None:
    key, encoded = name.lower().encode("latin-1"), value.encode("latin-1")
    h = MutableHeaders(raw=list(raw))
    h[name] = value
    positions = [i for i, (k, _) in enumerate(raw) if k == key]
    if positions:
        expected = [(k, v) for i, (k, v) in enumerate(raw) if k != key or i == positions[0]]
        expected[positions[0]] = (key, encoded)
    else:
        expected = [*raw, (key, encoded)]
    assert h.raw == expected

    h.append(name, value)
    assert h.getlist(name) == [value, value]
    del h[name.upper()]
    assert h.raw == [(k, v) for k, v in raw if k != key]


# --------------------------------------------------------------------------------- UploadFile


class RecordingSpooledFile(SpooledTemporaryFile[bytes]):
    """Records in which thread each file method runs."""

    def __init__(self, max_size: int = 0) -> None:
        super().__init__(max_size=max_size)
        self.threads: list[int] = []

    def write(self, s: Any) -> int:
        self.threads.append(threading.get_ident())
        return super().write(s)

    def read(self, *args: Any) -> bytes:
        self.threads.append(threading.get_ident())
        return super().read(*args)

    def seek(self, *args: Any) -> int:
        self.threads.append(threading.get_ident())
        return super().seek(*args)

    def close(self) -> None:
        self.threads.append(threading.get_ident())
        super().close()


@pytest.fixture
def spooled() -> Iterator[RecordingSpooledFile]:
    file = RecordingSpooledFile(max_size=100)
    yield file
    file.close()


def as_binary(file: Any) -> BinaryIO:
    return cast(BinaryIO, file)


def test_upload_file_attributes() -> None:
    with io.BytesIO() as file:
        upload = UploadFile(file, filename="a.txt", size=3, headers=Headers({"Content-Type": "text/plain"}))
        assert upload.file is file
        assert upload.filename == "a.txt"
        assert upload.size == 3
        assert upload.content_type == "text/plain"
        assert repr(upload) == "UploadFile(filename='a.txt', size=3, headers=Headers({'content-type': 'text/plain'}))"

        bare = UploadFile(file)
        assert bare.filename is None
        assert bare.size is None
        assert bare.content_type is None
        assert bare.headers == Headers()
        assert repr(bare) == "UploadFile(filename=None, size=None, headers=Headers({}))"

        empty = Headers()
        assert UploadFile(file, headers=empty).headers is empty


@pytest.mark.anyio
async def test_upload_file_in_memory_runs_inline(spooled: RecordingSpooledFile) -> None:
    upload = UploadFile(as_binary(spooled), size=0)
    await upload.write(b"hello")
    await upload.write(b" world")
    assert upload.size == 11
    await upload.seek(0)
    assert await upload.read(5) == b"hello"
    assert await upload.read() == b" world"
    await upload.close()
    assert spooled.closed
    assert spooled.threads == [threading.get_ident()] * len(spooled.threads)
    assert len(spooled.threads) == 6


@pytest.mark.anyio
async def test_upload_file_rolled_to_disk_uses_threads(spooled: RecordingSpooledFile) -> None:
    spooled.rollover()
    upload = UploadFile(as_binary(spooled), size=0)
    await upload.write(b"data")
    await upload.seek(0)
    assert await upload.read() == b"data"
    await upload.close()
    assert spooled.closed
    assert upload.size == 4
    assert len(spooled.threads) == 4
    assert threading.get_ident() not in spooled.threads


@pytest.mark.anyio
async def test_upload_file_write_that_would_roll_over_uses_a_thread(spooled: RecordingSpooledFile) -> None:
    upload = UploadFile(as_binary(spooled), size=0)
    await upload.write(b"x" * 100)  # exactly max_size: stays in memory, inline
    assert spooled.threads == [threading.get_ident()]
    await upload.write(b"y")  # goes past max_size: rolls over, in a worker thread
    assert spooled.threads[1] != threading.get_ident()
    assert getattr(spooled, "_rolled") is True  # noqa: B009  # private attribute of SpooledTemporaryFile
    assert upload.size == 101
    await upload.seek(0)
    assert await upload.read() == b"x" * 100 + b"y"


@pytest.mark.anyio
async def test_upload_file_unbounded_spooled_file_stays_inline() -> None:
    with RecordingSpooledFile(max_size=0) as file:
        upload = UploadFile(as_binary(file))
        await upload.write(b"z" * 1000)
        assert upload.size is None  # unknown size stays unknown
        assert file.threads == [threading.get_ident()]


@pytest.mark.anyio
async def test_upload_file_other_file_objects_use_threads() -> None:
    calls: list[int] = []

    class RecordingBytesIO(io.BytesIO):
        def write(self, data: Any, /) -> int:
            calls.append(threading.get_ident())
            return super().write(data)

    file = RecordingBytesIO()
    upload = UploadFile(file, filename="f")
    await upload.write(b"abc")
    await upload.seek(1)
    assert await upload.read() == b"bc"
    await upload.close()
    assert file.closed
    assert calls and threading.get_ident() not in calls


# ------------------------------------------------------------------------------------- FormData


def test_formdata() -> None:
    with io.BytesIO(b"xxxx") as file:
        upload = UploadFile(file, filename="file.txt")
        form = FormData([("a", "123"), ("a", "456"), ("b", upload)])
        assert "a" in form
        assert "A" not in form
        assert form["a"] == "456"
        assert form["b"] is upload
        assert form.getlist("a") == ["123", "456"]
        assert list(form.keys()) == ["a", "b"]
        assert len(form) == 2
        assert repr(form) == f"FormData([('a', '123'), ('a', '456'), ('b', {upload!r})])"
        assert FormData(form)["b"] is upload
        assert FormData({"a": "1"}, b=upload).multi_items() == [("a", "1"), ("b", upload)]
        assert FormData(a="1") == FormData([("a", "1")])
        assert FormData(a="1") != ImmutableMultiDict([("a", "1")])


@pytest.mark.anyio
async def test_formdata_close_closes_every_upload() -> None:
    first, second = io.BytesIO(b"1"), io.BytesIO(b"2")
    form = FormData(
        [("a", UploadFile(first, filename="1")), ("text", "value"), ("a", UploadFile(second, filename="2"))]
    )
    await form.close()
    assert first.closed
    assert second.closed


# ------------------------------------------------------------------------------------- typing


def test_precise_types() -> None:
    assert_type(QueryParams("a=1")["a"], str)
    assert_type(QueryParams("a=1").getlist("a"), list[str])
    assert_type(Headers()["a"] if "a" in Headers() else "", str)
    md: ImmutableMultiDict[str, int] = ImmutableMultiDict([("a", 1)])
    assert_type(md["a"], int)
    wider: ImmutableMultiDict[str, int | str] = md  # covariant in the value type
    assert wider["a"] == 1
    form = FormData(a="1")
    assert_type(form["a"], "UploadFile | str")
    assert_type(URL("http://a/").port, "int | None")
    assert_type(URL("http://a/").replace(path="/"), URL)
    assert_type(urlencode(QueryParams("a=1").multi_items()), str)
