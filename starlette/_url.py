"""`URL`, a parsed, immutable, string-like URL, and `URLPath`, a path as returned by routing.

Theory of operation: a `URL` is just its string; components are parsed on demand by
`urlsplit`, an `lru_cache`'d `urllib.parse.urlsplit`, so the many `request.url.path`-style
reads of one request (and of requests for the same URL) parse once. Every transformation
(`replace`, `include_query_params`, ...) builds a new string and a new `URL`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit as _urlsplit

from starlette._multidict import MultiDict
from starlette.types import Scope

urlsplit = functools.lru_cache(maxsize=1024)(_urlsplit)
# Longer URLs (rare, and client controlled) are parsed every time rather than cached, which
# bounds what the cache can hold to a few megabytes instead of 1024 URLs of any length.
_MAX_CACHED_URL = 2048

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_SECURE_SCHEMES = frozenset(("https", "wss"))


# Theory of operation: a Host header is client input. One that is no `host[:port]` that
# `urlsplit` can take apart (unbalanced or invalid IPv6 brackets, a port that is not a number
# in 0-65535) would make the components of the URL raise ValueError, a 500 wherever the URL is
# read. Such a header is ignored: the URL is built as if there were none (from the server
# address). Plain `name[:port]` values, nearly all of them, are accepted by one regex match;
# others are checked by parsing them. A server sees few distinct Host values: the answers are
# cached (a small cache, since the values are client input).
_PLAIN_HOST = re.compile(r"[A-Za-z0-9.-]*(?::[0-9]{1,4})?")


_IPV_FUTURE = re.compile(r"v[0-9A-Fa-f]+\..+")


@functools.lru_cache(maxsize=64)
def _usable_host(host: str) -> bool:
    if _PLAIN_HOST.fullmatch(host):
        return True
    if "[" in host or "]" in host:
        # Checked here, not left to `urlsplit`: how much it checks brackets varies by version.
        end = host.find("]")
        if not host.startswith("[") or end < 0:
            return False
        inside = host[1:end]
        if not _IPV_FUTURE.fullmatch(inside):
            try:
                ipaddress.IPv6Address(inside)
            except ValueError:
                return False
    try:
        _ = _urlsplit("//" + host).port  # ValueError for a bad port
    except ValueError:
        return False
    return True


def _decode_query(query_string: bytes) -> str:
    # Clients percent-encode, so this is ASCII in practice; raw UTF-8 is decoded as such, and
    # anything else (bad client input) as latin-1 rather than failing the request.
    try:
        return query_string.decode()
    except UnicodeDecodeError:
        return query_string.decode("latin-1")


class URL:
    """A URL: build it from a string, from an ASGI scope, or from components
    (`URL(scheme="https", netloc="example.com", path="/")`); exactly one of the three.

    Compares equal to any `URL` or `str` with the same text.
    """

    __slots__ = ("_url",)

    def __init__(self, url: str = "", scope: Scope | None = None, **components: Any) -> None:
        if scope is not None:
            assert not url, 'Cannot set both "url" and "scope".'
            assert not components, 'Cannot set both "scope" and "**components".'
            scheme = scope.get("scheme", "http")
            server = scope.get("server", None)
            path = scope["path"]
            query_string = scope.get("query_string", b"")

            host_header = None
            for key, value in scope.get("headers", ()):
                if key == b"host":
                    host_header = value.decode("latin-1")
                    if not _usable_host(host_header):
                        host_header = None
                    break

            if host_header is not None:
                url = f"{scheme}://{host_header}{path}"
            elif server is None:
                url = path
            else:
                host, port = server
                if port is None or port == _DEFAULT_PORTS.get(scheme):
                    url = f"{scheme}://{host}{path}"
                else:
                    url = f"{scheme}://{host}:{port}{path}"

            if query_string:
                url += "?" + _decode_query(query_string)
        elif components:
            assert not url, 'Cannot set both "url" and "**components".'
            url = URL("").replace(**components).components.geturl()
        else:
            url = str(url)  # a plain str, also from a str subclass (URLPath) or another URL

        self._url = url

    @property
    def components(self) -> SplitResult:
        """The parsed URL (`urllib.parse.SplitResult`)."""
        url = self._url
        if len(url) > _MAX_CACHED_URL:
            return _urlsplit(url)
        return urlsplit(url)

    @property
    def scheme(self) -> str:
        """`"https"` in `https://example.com/`; `""` if none."""
        return self.components.scheme

    @property
    def netloc(self) -> str:
        """`"user:pw@example.com:8000"`: everything between `//` and the path."""
        return self.components.netloc

    @property
    def path(self) -> str:
        """The path, percent-encoded as it appears in the URL."""
        return self.components.path

    @property
    def query(self) -> str:
        """The query string, without `?`."""
        return self.components.query

    @property
    def fragment(self) -> str:
        """The fragment, without `#`."""
        return self.components.fragment

    @property
    def username(self) -> None | str:
        """The user name of the netloc, or `None`."""
        return self.components.username

    @property
    def password(self) -> None | str:
        """The password of the netloc, or `None`."""
        return self.components.password

    @property
    def hostname(self) -> None | str:
        """The host, lower-cased, IPv6 addresses without brackets; `None` if absent."""
        return self.components.hostname

    @property
    def port(self) -> int | None:
        """The explicit port, or `None`."""
        return self.components.port

    @property
    def is_secure(self) -> bool:
        """Whether the scheme is `https` or `wss`."""
        return self.scheme in _SECURE_SCHEMES

    def replace(self, **kwargs: Any) -> URL:
        """A copy with some components replaced: any of `scheme`, `netloc`, `path`, `query`,
        `fragment`, or netloc parts `username`, `password`, `hostname`, `port`."""
        if "username" in kwargs or "password" in kwargs or "hostname" in kwargs or "port" in kwargs:
            hostname = kwargs.pop("hostname", None)
            port = kwargs.pop("port", self.port)
            username = kwargs.pop("username", self.username)
            password = kwargs.pop("password", self.password)

            if hostname is None:
                # Keep the current host as written (brackets of an IPv6 literal included).
                netloc = self.netloc
                _, _, hostname = netloc.rpartition("@")
                if hostname[-1:] != "]":
                    hostname = hostname.rsplit(":", 1)[0]
            elif ":" in hostname and not hostname.startswith("["):
                hostname = f"[{hostname}]"

            netloc = hostname
            if port is not None:
                netloc += f":{port}"
            if username is not None:
                userpass = username
                if password is not None:
                    userpass += f":{password}"
                netloc = f"{userpass}@{netloc}"

            kwargs["netloc"] = netloc

        components = self.components._replace(**kwargs)
        return self.__class__(components.geturl())

    def include_query_params(self, **kwargs: Any) -> URL:
        """A copy with these query parameters set (replacing existing values of the same names)."""
        params = MultiDict(parse_qsl(self.query, keep_blank_values=True))
        params.update({str(key): str(value) for key, value in kwargs.items()})
        query = urlencode(params.multi_items())
        return self.replace(query=query)

    def replace_query_params(self, **kwargs: Any) -> URL:
        """A copy whose query string holds exactly these parameters."""
        query = urlencode([(str(key), str(value)) for key, value in kwargs.items()])
        return self.replace(query=query)

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        """A copy without the query parameters named `keys` (one name or several)."""
        if isinstance(keys, str):
            keys = [keys]
        params = MultiDict(parse_qsl(self.query, keep_blank_values=True))
        for key in keys:
            params.pop(key, None)
        query = urlencode(params.multi_items())
        return self.replace(query=query)

    def __eq__(self, other: Any) -> bool:
        return str(self) == str(other)

    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # equal to plain strings, so no consistent hash

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        url = str(self)
        if self.password:
            url = str(self.replace(password="********"))
        return f"{self.__class__.__name__}({url!r})"


_PROTOCOL_SCHEMES = {
    "http": {True: "https", False: "http"},
    "websocket": {True: "wss", False: "ws"},
}


class URLPath(str):
    """A URL path string, as returned by `url_path_for()`, that remembers the `protocol`
    (`"http"`, `"websocket"` or `""`) and `host` it belongs to, so it can be made absolute."""

    protocol: str
    host: str

    def __new__(cls, path: str, protocol: str = "", host: str = "") -> URLPath:
        assert protocol in ("http", "websocket", "")
        return str.__new__(cls, path)

    def __init__(self, path: str, protocol: str = "", host: str = "") -> None:
        self.protocol = protocol
        self.host = host

    def make_absolute_url(self, base_url: str | URL) -> URL:
        """The absolute URL of this path under `base_url` (its scheme adapted to the protocol,
        `host` if set, else the base's netloc; the base's path prefixed)."""
        if isinstance(base_url, str):
            base_url = URL(base_url)
        if self.protocol:
            scheme = _PROTOCOL_SCHEMES[self.protocol][base_url.is_secure]
        else:
            scheme = base_url.scheme

        netloc = self.host or base_url.netloc
        path = base_url.path.rstrip("/") + str(self)
        return URL(scheme=scheme, netloc=netloc, path=path)
