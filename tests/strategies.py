"""Hypothesis strategies shared by the test suite: header names and values, raw ASGI header
lists, query parameters and query strings, URLs and their parts, multidict items.

Import what you need, e.g. `from tests.strategies import header_names, raw_headers`.
"""

from __future__ import annotations

import string
from urllib.parse import urlencode

from hypothesis import strategies as st

# RFC 9110 `tchar`: the characters allowed in a header field name (a token).
TOKEN_CHARS = "!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits
# Visible ASCII plus obs-text (0x80-0xFF): what a header value may hold besides inner spaces/tabs.
_FIELD_VCHARS = "".join(chr(c) for c in range(0x21, 0x7F)) + "".join(chr(c) for c in range(0x80, 0x100))

# Text that survives UTF-8 encoding (no lone surrogates).
_unicode_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)


def header_names(max_size: int = 20) -> st.SearchStrategy[str]:
    """Valid header field names in mixed case (e.g. `Content-Type`, `x-a`)."""
    return st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=max_size)


def header_values(max_size: int = 40) -> st.SearchStrategy[str]:
    """Valid header field values, latin-1 encodable, no leading/trailing whitespace, no CR/LF."""
    inner = st.text(alphabet=_FIELD_VCHARS + " \t", max_size=max_size)
    return inner.map(lambda value: value.strip(" \t"))


def raw_headers(max_size: int = 8) -> st.SearchStrategy[list[tuple[bytes, bytes]]]:
    """ASGI raw header lists: `(lower-case name, value)` byte pairs; duplicate names likely."""
    name = st.one_of(st.sampled_from(["a", "content-type", "set-cookie", "x-dup"]), header_names(8)).map(
        lambda n: n.lower().encode("latin-1")
    )
    value = header_values().map(lambda v: v.encode("latin-1"))
    return st.lists(st.tuples(name, value), max_size=max_size)


def query_keys() -> st.SearchStrategy[str]:
    """Query parameter names: any (UTF-8 encodable) text, a small pool made likely to collide."""
    return st.one_of(st.sampled_from(["a", "b", "q", "a b", "ключ", "&=?"]), _unicode_text)


def query_values() -> st.SearchStrategy[str]:
    """Query parameter values: any (UTF-8 encodable) text, empty included."""
    return st.one_of(st.sampled_from(["", "1", "x y", "a&b=c", "é", "+%20"]), _unicode_text)


def query_items(max_size: int = 8) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Lists of `(name, value)` query parameters, duplicate names likely."""
    return st.lists(st.tuples(query_keys(), query_values()), max_size=max_size)


def query_strings(max_size: int = 8) -> st.SearchStrategy[str]:
    """Well-formed encoded query strings (`a=1&b=x+y`), as `urlencode` writes them."""
    return query_items(max_size).map(urlencode)


def multidict_keys() -> st.SearchStrategy[str]:
    """Keys from a small pool, so multidict operations often hit existing keys."""
    return st.sampled_from(["a", "b", "c", "d"])


def multidict_values() -> st.SearchStrategy[str]:
    """Short string values."""
    return st.text(alphabet="xyz01", max_size=3)


def multidict_items(max_size: int = 10) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Lists of `(key, value)` pairs with frequent duplicate keys."""
    return st.lists(st.tuples(multidict_keys(), multidict_values()), max_size=max_size)


_LABEL = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=10)


def hostnames() -> st.SearchStrategy[str]:
    """Host names as `URL.hostname` reports them: lower-case DNS names, IPv4 and IPv6 addresses
    (the latter without brackets)."""
    dns = st.lists(_LABEL, min_size=1, max_size=3).map(".".join)
    ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
    ipv6 = st.ip_addresses(v=6).map(str)
    return st.one_of(dns, ipv4, ipv6)


def url_paths() -> st.SearchStrategy[str]:
    """Absolute, already percent-encoded URL paths (`/`, `/a/b%20c/`)."""
    segment = st.text(alphabet=string.ascii_letters + string.digits + "-._~%20!$&'()*+,;=:@", max_size=8)
    return st.lists(segment, max_size=4).map(lambda parts: "/" + "/".join(parts))


def url_fragments() -> st.SearchStrategy[str]:
    """Fragments without `#`."""
    return st.text(alphabet=string.ascii_letters + string.digits + "-._~/?", max_size=8)


@st.composite
def urls(draw: st.DrawFn) -> str:
    """Absolute http(s)/ws(s) URLs: optional userinfo and port, path, query and fragment."""
    scheme = draw(st.sampled_from(["http", "https", "ws", "wss"]))
    host = draw(hostnames())
    netloc = f"[{host}]" if ":" in host else host
    port = draw(st.none() | st.integers(1, 65535))
    if port is not None:
        netloc += f":{port}"
    user = draw(st.none() | _LABEL)
    if user is not None:
        password = draw(st.none() | _LABEL)
        netloc = (user if password is None else f"{user}:{password}") + "@" + netloc
    url = f"{scheme}://{netloc}{draw(url_paths())}"
    query = draw(query_strings(3))
    if query:
        url += "?" + query
    fragment = draw(url_fragments())
    if fragment:
        url += "#" + fragment
    return url


# Forms: urlencoded items, multipart parts, boundaries and chunkings ---------------------------

# RFC 2046 `bchars`: what a multipart boundary may hold (a space, but not as the last character).
_BOUNDARY_CHARS = string.ascii_letters + string.digits + "'()+_,-./:=? "


def multipart_boundaries() -> st.SearchStrategy[str]:
    """Valid multipart boundaries (RFC 2046): 1 to 70 `bchars`, not ending with a space; the
    kinds browsers and HTTP clients send are made likely."""
    anything = st.text(alphabet=_BOUNDARY_CHARS, min_size=1, max_size=70).map(lambda b: b.rstrip(" ") or "x")
    common = st.sampled_from(["B", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "a" * 70, "0", "--", "==?=="])
    hexes = st.binary(min_size=16, max_size=16).map(bytes.hex)
    return st.one_of(common, hexes, anything)


def form_field_names() -> st.SearchStrategy[str]:
    """Form field names and file names as a client may send them in a Content-Disposition: any
    UTF-8 encodable text without CR or LF (`_charset_`, which changes the charset, excluded)."""
    text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=16)
    pool = st.sampled_from(["file", "a", "", " ", 'q"uote', "back\\slash", "semi;colon=x", "ключ", "名前"])
    return st.one_of(pool, text).filter(lambda name: name != "_charset_")


def form_field_values() -> st.SearchStrategy[str]:
    """Text values of form fields: any UTF-8 encodable text, line breaks included."""
    return st.one_of(st.sampled_from(["", "value", "a\r\nb", "--", "é€"]), st.text(st.characters(codec="utf-8")))


@st.composite
def multipart_parts(draw: st.DrawFn, max_size: int = 5) -> list[tuple[str, str, str | None, bytes | str]]:
    """Lists of multipart parts `(kind, name, filename, content)`: kind "field" (a text value,
    filename None) or "file" (binary content, a filename)."""
    parts: list[tuple[str, str, str | None, bytes | str]] = []
    for _ in range(draw(st.integers(0, max_size))):
        name = draw(form_field_names())
        if draw(st.booleans()):
            parts.append(("field", name, None, draw(form_field_values())))
        else:
            filename = draw(form_field_names())
            parts.append(("file", name, filename, draw(st.binary(max_size=300))))
    return parts


@st.composite
def chunkings(draw: st.DrawFn, data: bytes, max_chunks: int = 12) -> list[bytes]:
    """`data` cut into random pieces that join back into it (empty pieces included), as a body
    may arrive in `http.request` messages of any size."""
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=max_chunks - 1)))
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return pieces
