"""Parsing of the `Cookie` request header (what `Request.cookies` is built from)."""

from __future__ import annotations

import re

# A backslash escape inside a quoted cookie value: three octal digits (first one 0-3, so the
# result fits in a byte) or any single character but a newline. Octal is tried first.
_ESCAPE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")


def _unescape(match: re.Match[str]) -> str:
    octal = match.group(1)
    if octal is not None:
        return chr(int(octal, 8))
    return match.group(2)


def unquote_cookie_value(value: str) -> str:
    """Undo the quoting some servers apply to cookie values (`"..."` with backslash escapes).

    Values that are not wrapped in double quotes come back unchanged; inside the quotes,
    `\\ooo` octal escapes become that character and `\\c` becomes `c`. This is what
    `http.cookies` does on the way in, so values it wrote read back as they were.
    """
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    inner = value[1:-1]
    if "\\" not in inner:
        return inner
    return _ESCAPE.sub(_unescape, inner)


def parse_cookie_header(cookie_string: str, into: dict[str, str]) -> None:
    """Add the `name=value` pairs of one `Cookie` header to `into`.

    Browsers do not follow RFC 6265 strictly, so this is lenient rather than validating: the
    header is split on `;`, each piece on its first `=`; a piece without `=` is a value with
    the empty name (as browsers send `document.cookie = "value"`); names and values are
    stripped of surrounding whitespace; pieces that are empty on both sides are skipped. A
    later assignment of the same name replaces an earlier one. Nothing here raises.
    """
    for chunk in cookie_string.split(";"):
        key, sep, val = chunk.partition("=")
        if not sep:
            key, val = "", key
        key = key.strip()
        val = val.strip()
        if key or val:
            into[key] = unquote_cookie_value(val)
