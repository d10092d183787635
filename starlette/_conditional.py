"""Conditional GET evaluation (RFC 9110 section 13) for the static files app.

Theory of operation: a cached copy is still fresh when `If-None-Match` lists the current
entity tag (weak comparison, so `W/"x"` matches `"x"`, and `*` matches any current file), or,
only when the request carries no `If-None-Match` at all, when `If-Modified-Since` is not older
than `Last-Modified`. Dates are compared as POSIX timestamps so that any zone offset the client
uses is honoured; a date that does not parse makes the condition false (a full response).
"""

from __future__ import annotations

from email.utils import mktime_tz, parsedate_tz

from starlette.datastructures import Headers


def _opaque_tag(tag: str) -> str:
    """The entity tag without its weakness marker."""
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(etag: str, if_none_match: list[str]) -> bool:
    """Whether `etag` is listed in the (possibly repeated, comma-separated) If-None-Match values."""
    current = _opaque_tag(etag.strip())
    for value in if_none_match:
        for tag in value.split(","):
            tag = tag.strip()
            if tag == "*" or _opaque_tag(tag) == current:
                return True
    return False


def _timestamp(value: str) -> int | None:
    parsed = parsedate_tz(value)
    if parsed is None:
        return None
    try:
        return mktime_tz(parsed)
    except (OverflowError, ValueError):
        return None


def not_modified(response_headers: Headers, request_headers: Headers) -> bool:
    """Whether the request's validators say the client's copy of the response is current."""
    if_none_match = request_headers.getlist("if-none-match")
    if if_none_match:
        etag = response_headers.get("etag")
        return etag is not None and etag_matches(etag, if_none_match)
    if_modified_since = request_headers.get("if-modified-since")
    last_modified = response_headers.get("last-modified")
    if if_modified_since is None or last_modified is None:
        return False
    since = _timestamp(if_modified_since)
    modified = _timestamp(last_modified)
    return since is not None and modified is not None and since >= modified
