"""Parsing of parameterised header values such as `Content-Type` and `Content-Disposition`:
`main-value; key=value; key="quoted value"; key*=charset'lang'percent-encoded`."""

from __future__ import annotations

import codecs
import re
from urllib.parse import unquote_to_bytes

# One `; key=value` parameter. A quoted value may contain `;` and backslash escapes; an
# unquoted one runs to the next `;`. Text that is not a parameter (`; junk ;`) is skipped.
_PARAM = re.compile(r';\s*([^\s;="]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', re.DOTALL)
# Only `\\` and `\"` are unescaped in quoted values: browsers send backslashes in file names
# unescaped (`"C:\dir\a.txt"`), so the general `\c` -> `c` rule of RFC 7230 would eat them.
_QUOTED_PAIR = re.compile(r'\\([\\"])')


# Codecs that Python counts as text encodings but that are no charset a client may name: they
# interpret backslash escapes (warning about unknown ones) or raise a bare UnicodeError.
_NOT_CHARSETS = frozenset({"idna", "punycode", "raw-unicode-escape", "undefined", "unicode-escape"})


# Longer than any registered charset name (the IANA registry's longest are about 45 characters).
_MAX_CHARSET_NAME = 64


def lookup_charset(name: str) -> str | None:
    """The codec name of the charset called `name` (client input), or None when Python has no
    such text charset."""
    if len(name) > _MAX_CHARSET_NAME:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return None
    if not info._is_text_encoding or info.name in _NOT_CHARSETS:
        return None
    return info.name


def _decode_ext_value(value: str) -> str | None:
    """Decode an RFC 5987 `charset'language'percent-encoded` value, or None if malformed."""
    charset, sep, rest = value.partition("'")
    _language, sep2, encoded = rest.partition("'")
    if not sep or not sep2:
        return None
    codec = lookup_charset(charset or "utf-8")
    if codec is None:
        return None
    try:
        return unquote_to_bytes(encoded).decode(codec)
    except UnicodeDecodeError:
        return None


def parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split a header value into its lower-cased main value and its parameters.

    Parameter names are lower-cased; quoted values are unquoted; an extended parameter
    (`filename*=UTF-8''na%C3%AFve.txt`) is decoded and stored under its name with the `*`
    (`"filename*"`), and dropped if it cannot be decoded. A repeated name keeps its last value.
    """
    main, sep, rest = value.partition(";")
    params: dict[str, str] = {}
    if sep:
        for match in _PARAM.finditer(value, len(main)):
            key = match.group(1).lower()
            val = match.group(2).strip()
            if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
                val = val[1:-1]
                if "\\" in val:
                    val = _QUOTED_PAIR.sub(r"\1", val)
            if key[-1] == "*":
                decoded = _decode_ext_value(val)
                if decoded is None:
                    continue
                val = decoded
            params[key] = val
    return main.strip().lower(), params
