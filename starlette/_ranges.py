"""Sans-I/O handling of HTTP `Range` requests (RFC 9110 section 14): parsing the `Range`
header into byte ranges of a representation, and the framing of `multipart/byteranges`
bodies. `starlette.responses.FileResponse` does the I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

__all__ = [
    "MalformedRange",
    "UnsatisfiableRange",
    "multipart_byteranges",
    "multipart_closing",
    "parse_range_header",
]


class MalformedRange(ValueError):
    """The `Range` header does not follow the `bytes=<range-set>` syntax (answered with 400)."""


class UnsatisfiableRange(ValueError):
    """None of the requested ranges overlaps the representation (answered with 416)."""


# Numbers of more than this many significant digits are beyond any real file size; they are
# not converted (int() of a huge digit string is superlinear and capped by
# sys.get_int_max_str_digits), but stand for `_HUGE`, which is past the end of any file.
_MAX_DIGITS = 18
_HUGE = 1_000_000_000_000_000_000  # 10**_MAX_DIGITS
_OWS = " \t"
# One range-spec with its surrounding optional whitespace. Every quantifier is followed by a
# character it cannot match, so matching never backtracks: linear in the spec's length.
_RANGE_SPEC = re.compile(r"[ \t]*([0-9]*)-([0-9]*)[ \t]*", re.ASCII)


def _long_int(digits: str) -> int:
    return _HUGE if len(digits.lstrip("0")) > _MAX_DIGITS else int(digits)


# Theory of operation: the header is split on commas once and each range-spec is matched in
# time proportional to its length, so parsing is linear in the header length however many
# ranges it holds. Syntax errors anywhere make the whole header malformed (400); specs that
# are well formed but start past the end of the file (or ask for an empty suffix) are
# dropped, and only when nothing is left is the request unsatisfiable (416). The surviving
# ranges are half-open `(start, end)` pairs clipped to the file, then sorted and coalesced
# (overlapping or adjacent ranges become one), which costs O(n log n) and guarantees the
# multipart body never repeats a byte, whatever the client asked for.
def parse_range_header(http_range: str, max_size: int) -> list[tuple[int, int]]:
    """Parse a `Range` header value against a representation of `max_size` bytes.

    Returns sorted, non-overlapping, non-adjacent half-open `(start, end)` ranges with
    `0 <= start < end <= max_size`. Raises `MalformedRange` for a syntax error or a unit other
    than `bytes`, and `UnsatisfiableRange` when no range overlaps the representation.
    """
    unit, equals, range_set = http_range.partition("=")
    if not equals or unit.strip(_OWS).lower() != "bytes":
        raise MalformedRange()

    ranges: list[tuple[int, int]] = []
    append = ranges.append
    match_spec = _RANGE_SPEC.fullmatch
    seen_spec = False
    for raw_spec in range_set.split(","):
        match = match_spec(raw_spec)
        if match is None:
            if raw_spec.strip(_OWS):
                raise MalformedRange()
            continue  # RFC 9110 section 5.6.1: empty list elements are ignored
        seen_spec = True
        first, last = match.groups()
        if first:
            start = int(first) if len(first) <= _MAX_DIGITS else _long_int(first)
            if last:
                last_pos = int(last) if len(last) <= _MAX_DIGITS else _long_int(last)
                if last_pos < start:
                    raise MalformedRange()
                end = last_pos + 1 if last_pos < max_size else max_size
            else:
                end = max_size
            if start < max_size:
                append((start, end))
        elif last:
            suffix_length = int(last) if len(last) <= _MAX_DIGITS else _long_int(last)
            if suffix_length and max_size:
                append((max_size - suffix_length if suffix_length < max_size else 0, max_size))
        else:
            raise MalformedRange()  # a lone "-"

    if not seen_spec:
        raise MalformedRange()
    if not ranges:
        raise UnsatisfiableRange()

    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            if end > last_end:
                merged[-1] = (last_start, end)
        else:
            merged.append((start, end))
    return merged


# Theory of operation: a `multipart/byteranges` body (RFC 9110 section 14.6) is, for each
# range, `--BOUNDARY\r\nContent-Type: T\r\nContent-Range: bytes S-E/SIZE\r\n\r\n` (the part
# header this returns a generator of), the bytes of the range and `\r\n`; then the closing
# delimiter `--BOUNDARY--\r\n`. Only the two numbers vary between parts, so the total length
# is computed from their decimal lengths without building any part.
def multipart_byteranges(
    ranges: Sequence[tuple[int, int]], boundary: str, max_size: int, content_type: str
) -> tuple[int, Callable[[int, int], bytes]]:
    """The total body length and a `(start, end) -> part header` function for the ranges."""
    prefix = f"--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: bytes ".encode("latin-1")
    suffix = f"/{max_size}\r\n\r\n".encode("latin-1")

    def part_header(start: int, end: int) -> bytes:
        return b"%s%d-%d%s" % (prefix, start, end - 1, suffix)

    fixed = len(prefix) + len(suffix) + len("-") + len("\r\n")
    content_length = len(multipart_closing(boundary))
    for start, end in ranges:
        content_length += fixed + len(str(start)) + len(str(end - 1)) + (end - start)
    return content_length, part_header


def multipart_closing(boundary: str) -> bytes:
    """The close delimiter that ends a `multipart/byteranges` body."""
    return f"--{boundary}--\r\n".encode("latin-1")
