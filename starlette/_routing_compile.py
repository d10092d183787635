"""Route path templates: compiling `"/users/{id:int}"` into a regex, a format string and the
convertors of its parameters, and filling a format string back in for `url_path_for`."""

from __future__ import annotations

import re
from re import Pattern
from typing import Any, NamedTuple

from starlette.convertors import CONVERTOR_TYPES, Convertor

PARAM_REGEX = re.compile("{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?}")


class UnknownConvertorError(AssertionError, ValueError):
    """A `{name:type}` whose type is not registered. Both an `AssertionError` and a
    `ValueError`, so that either way of catching a bad route definition works."""


class CompiledPath(NamedTuple):
    """A compiled template, plus the literal first path segment that every path it matches
    starts with (`"users"` for `"/users/{id}"`), or None when that segment is not a literal
    (a parameter in it, or a host template). Routers bucket routes by that key."""

    regex: Pattern[str]
    format: str
    convertors: dict[str, Convertor[Any]]
    first_segment: str | None


def host_without_port(host: str) -> str:
    """`host` without a trailing `:port` (IPv6 literals such as `[::1]:8000` included)."""
    colon = host.find(":", host.rfind("]") + 1)
    return host if colon < 0 else host[:colon]


def compile_template(path: str) -> CompiledPath:
    """Compile a route path (starting with "/") or a host pattern (anything else).

    Literal text is escaped; each `{name}` / `{name:type}` becomes a named group with the
    convertor's regex. In a host pattern a trailing `:port` is left out of the regex (but kept in
    the format, for `url_path_for`): the port is stripped from the Host header before matching.
    """
    is_host = not path.startswith("/")
    regex_parts = ["^"]
    format_parts: list[str] = []
    convertors: dict[str, Convertor[Any]] = {}
    duplicated: set[str] = set()
    first_param_at = -1
    idx = 0
    for match in PARAM_REGEX.finditer(path):
        name, type_suffix = match.groups("str")
        convertor_type = type_suffix.lstrip(":")
        convertor = CONVERTOR_TYPES.get(convertor_type)
        if convertor is None:
            raise UnknownConvertorError(f"Unknown path convertor '{convertor_type}'")
        literal = path[idx : match.start()]
        regex_parts.append(re.escape(literal))
        regex_parts.append(f"(?P<{name}>{convertor.regex})")
        format_parts.append(literal)
        format_parts.append("{" + name + "}")
        if name in convertors:
            duplicated.add(name)
        convertors[name] = convertor
        if first_param_at < 0:
            first_param_at = match.start()
        idx = match.end()

    if duplicated:
        names = ", ".join(sorted(duplicated))
        ending = "s" if len(duplicated) > 1 else ""
        raise ValueError(f"Duplicated param name{ending} {names} at path {path}")

    tail = path[idx:]
    regex_parts.append(re.escape(host_without_port(tail) if is_host else tail))
    regex_parts.append("$")
    format_parts.append(tail)

    first_segment: str | None = None
    if not is_host:
        end = path.find("/", 1)
        if end < 0:
            end = len(path)
        if first_param_at < 0 or first_param_at >= end:
            first_segment = path[1:end]
    return CompiledPath(re.compile("".join(regex_parts)), "".join(format_parts), convertors, first_segment)


def compile_path(path: str) -> tuple[Pattern[str], str, dict[str, Convertor[Any]]]:
    """Compile a path template into `(regex, format, convertors)`: for `"/users/{id:int}"`,
    `(re.compile("^/users/(?P<id>[0-9]+)$"), "/users/{id}", {"id": IntegerConvertor()})`."""
    compiled = compile_template(path)
    return compiled.regex, compiled.format, compiled.convertors


def replace_params(
    path: str, param_convertors: dict[str, Convertor[Any]], path_params: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """Fill the `{name}` placeholders of a format string with `path_params` (rendered by their
    convertors). The parameters used are removed from `path_params`, which is returned with
    what is left."""
    for key, value in list(path_params.items()):
        placeholder = "{" + key + "}"
        if placeholder in path:
            path = path.replace(placeholder, param_convertors[key].to_string(value))
            path_params.pop(key)
    return path, path_params
