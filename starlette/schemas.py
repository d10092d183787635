"""OpenAPI schema generation from the routes' endpoint docstrings (YAML after a `---` line)."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Host, Mount, Route

try:
    import yaml
except ModuleNotFoundError:  # pyyaml is optional: importing this module must still work
    _yaml_installed = False
else:
    _yaml_installed = True

__all__ = ["BaseSchemaGenerator", "EndpointInfo", "OpenAPIResponse", "SchemaGenerator"]

# "{id:int}" -> "{id}": OpenAPI paths name their parameters without Starlette's convertors.
_CONVERTOR = re.compile(r":\w+}")

# The handler methods looked up on endpoint classes (HEAD is served by `get`).
_CLASS_HANDLERS = ("get", "post", "put", "patch", "delete", "options")
# The order in which a function route's methods are listed; any others follow, sorted.
_METHOD_ORDER = {method.upper(): index for index, method in enumerate(_CLASS_HANDLERS)}


class OpenAPIResponse(Response):
    """A schema (a dict) rendered as YAML, with the `application/vnd.oai.openapi` media type."""

    media_type = "application/vnd.oai.openapi"

    def render(self, content: Any) -> bytes:
        """The schema dumped as block-style YAML, UTF-8 encoded."""
        if not _yaml_installed:
            raise AssertionError("`pyyaml` must be installed to use OpenAPIResponse.")
        if not isinstance(content, dict):
            raise AssertionError("The schema passed to OpenAPIResponse should be a dictionary.")
        return yaml.dump(content, default_flow_style=False).encode("utf-8")


class EndpointInfo(NamedTuple):
    """One operation of the API: its OpenAPI `path`, lowercase `http_method` and handler `func`."""

    path: str
    http_method: str
    func: Callable[..., Any]


def _is_function(endpoint: Callable[..., Any]) -> bool:
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    return inspect.isfunction(endpoint) or inspect.ismethod(endpoint)


def _method_key(method: str) -> tuple[int, str]:
    return _METHOD_ORDER.get(method, len(_METHOD_ORDER)), method


class BaseSchemaGenerator:
    """Walks routes into `EndpointInfo`s and parses endpoint docstrings; subclasses build the
    schema itself in `get_schema`."""

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        """The schema for `routes` (implemented by subclasses)."""
        raise NotImplementedError()

    def get_endpoints(self, routes: list[BaseRoute]) -> list[EndpointInfo]:
        """Every operation in `routes`, recursing into mounts (their path as a prefix) and hosts.

        Function endpoints give one entry per method of the route (HEAD excepted); endpoint
        classes give one per handler method they define. Routes with `include_in_schema=False`
        and non-HTTP routes are left out, and path convertors are dropped ("{id:int}" -> "{id}").
        """
        endpoints: list[EndpointInfo] = []
        for route in routes:
            if isinstance(route, (Mount, Host)):
                prefix = _CONVERTOR.sub("}", route.path) if isinstance(route, Mount) else ""
                for sub in self.get_endpoints(route.routes or []):
                    endpoints.append(EndpointInfo(prefix + sub.path, sub.http_method, sub.func))
            elif isinstance(route, Route) and route.include_in_schema:
                path = _CONVERTOR.sub("}", route.path)
                endpoint = route.endpoint
                if _is_function(endpoint):
                    for method in sorted(route.methods or ("GET",), key=_method_key):
                        if method != "HEAD":
                            endpoints.append(EndpointInfo(path, method.lower(), endpoint))
                else:
                    for method in _CLASS_HANDLERS:
                        handler = getattr(endpoint, method, None)
                        if handler is not None:
                            endpoints.append(EndpointInfo(path, method, handler))
        return endpoints

    def parse_docstring(self, func_or_method: Callable[..., Any]) -> dict[str, Any]:
        """The YAML mapping after the last "---" of the docstring ({} when there is none)."""
        while isinstance(func_or_method, functools.partial):
            func_or_method = func_or_method.func
        docstring = func_or_method.__doc__
        if not docstring:
            return {}
        if not _yaml_installed:
            raise AssertionError("`pyyaml` must be installed to use parse_docstring.")
        parsed = yaml.safe_load(docstring.split("---")[-1])
        if not isinstance(parsed, dict):
            return {}  # plain prose, or YAML that is not a mapping
        return parsed

    def OpenAPIResponse(self, request: Request) -> Response:
        """A response with the schema of the routes of `request.app`."""
        routes = request.app.routes
        schema = self.get_schema(routes=routes)
        return OpenAPIResponse(schema)


class SchemaGenerator(BaseSchemaGenerator):
    """Builds an OpenAPI schema: `base_schema` plus "paths" from the endpoints' docstrings."""

    def __init__(self, base_schema: dict[str, Any]) -> None:
        self.base_schema = base_schema

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        """A copy of `base_schema` whose "paths" also hold every endpoint with a YAML docstring."""
        schema = dict(self.base_schema)
        paths: dict[str, dict[str, Any]] = {path: dict(item) for path, item in schema.get("paths", {}).items()}
        schema["paths"] = paths
        for endpoint in self.get_endpoints(routes):
            parsed = self.parse_docstring(endpoint.func)
            if parsed:
                paths.setdefault(endpoint.path, {})[endpoint.http_method] = parsed
        return schema
