from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from hypothesis import given, strategies as st

import starlette.schemas
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Host, Mount, Route, Router, WebSocketRoute
from starlette.schemas import BaseSchemaGenerator, EndpointInfo, OpenAPIResponse, SchemaGenerator
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from tests.types import TestClientFactory

schemas = SchemaGenerator({"openapi": "3.0.0", "info": {"title": "Example API", "version": "1.0"}})


# --------------------------------------------------------------------------------------------
# The documented example


def list_users(request: Request) -> Response:
    """
    responses:
      200:
        description: A list of users.
        examples:
          [{"username": "tom"}, {"username": "lucy"}]
    """
    raise NotImplementedError()  # pragma: no cover - documentation only


def create_user(request: Request) -> Response:
    """
    responses:
      200:
        description: A user.
        examples:
          {"username": "tom"}
    """
    raise NotImplementedError()  # pragma: no cover - documentation only


def openapi_schema(request: Request) -> Response:
    return schemas.OpenAPIResponse(request=request)


doc_app = Starlette(
    routes=[
        Route("/users", endpoint=list_users, methods=["GET"]),
        Route("/users", endpoint=create_user, methods=["POST"]),
        Route("/schema", endpoint=openapi_schema, include_in_schema=False),
    ]
)

DOC_SCHEMA = {
    "openapi": "3.0.0",
    "info": {"title": "Example API", "version": "1.0"},
    "paths": {
        "/users": {
            "get": {
                "responses": {
                    200: {
                        "description": "A list of users.",
                        "examples": [{"username": "tom"}, {"username": "lucy"}],
                    }
                }
            },
            "post": {"responses": {200: {"description": "A user.", "examples": {"username": "tom"}}}},
        },
    },
}


def test_documented_schema() -> None:
    assert schemas.get_schema(routes=doc_app.routes) == DOC_SCHEMA


def test_schema_endpoint(test_client_factory: TestClientFactory) -> None:
    response = test_client_factory(doc_app).get("/schema")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.oai.openapi"
    assert yaml.safe_load(response.text) == DOC_SCHEMA
    assert response.text == yaml.dump(DOC_SCHEMA, default_flow_style=False)


# --------------------------------------------------------------------------------------------
# Collecting endpoints


def ws_endpoint(websocket: WebSocket) -> None:
    """responses: {}"""


def users(request: Request) -> Response:
    """summary: users"""
    raise NotImplementedError()  # pragma: no cover - documentation only


def user(request: Request) -> Response:
    """summary: a user"""
    raise NotImplementedError()  # pragma: no cover - documentation only


def hidden(request: Request) -> Response:
    """summary: hidden"""
    raise NotImplementedError()  # pragma: no cover - documentation only


def undocumented(request: Request) -> Response:
    raise NotImplementedError()  # pragma: no cover - documentation only


class Organisations(HTTPEndpoint):
    def get(self, request: Request) -> Response:
        """summary: list organisations"""
        raise NotImplementedError()  # pragma: no cover - documentation only

    def post(self, request: Request) -> Response:
        """
        Create an organisation.
        ---
        summary: create an organisation
        """
        raise NotImplementedError()  # pragma: no cover - documentation only

    def delete(self, request: Request) -> Response:
        raise NotImplementedError()  # pragma: no cover - documentation only


def test_function_routes_give_one_entry_per_method_without_head() -> None:
    routes: list[BaseRoute] = [
        Route("/users", users),
        Route("/users/{id:int}", user, methods=["delete", "PUT", "patch", "GET", "POST", "OPTIONS", "PURGE", "COPY"]),
    ]
    assert schemas.get_endpoints(routes) == [
        EndpointInfo("/users", "get", users),
        EndpointInfo("/users/{id}", "get", user),
        EndpointInfo("/users/{id}", "post", user),
        EndpointInfo("/users/{id}", "put", user),
        EndpointInfo("/users/{id}", "patch", user),
        EndpointInfo("/users/{id}", "delete", user),
        EndpointInfo("/users/{id}", "options", user),
        EndpointInfo("/users/{id}", "copy", user),
        EndpointInfo("/users/{id}", "purge", user),
    ]


def test_endpoint_classes_give_one_entry_per_handler() -> None:
    endpoints = schemas.get_endpoints([Route("/organisations", Organisations)])
    assert endpoints == [
        EndpointInfo("/organisations", "get", Organisations.get),
        EndpointInfo("/organisations", "post", Organisations.post),
        EndpointInfo("/organisations", "delete", Organisations.delete),
    ]
    assert endpoints[0].path == "/organisations"
    assert endpoints[0].http_method == "get"
    assert endpoints[0].func is Organisations.get


def test_hidden_undocumented_and_websocket_routes() -> None:
    routes: list[BaseRoute] = [
        Route("/hidden", hidden, include_in_schema=False),
        Route("/undocumented", undocumented),
        WebSocketRoute("/ws", ws_endpoint),
    ]
    assert schemas.get_endpoints(routes) == [EndpointInfo("/undocumented", "get", undocumented)]
    assert schemas.get_schema(routes)["paths"] == {}


def test_mounts_and_hosts(tmp_path: Path) -> None:
    inner = Router(routes=[Route("/", users), Route("/{id:int}", user)])
    routes: list[BaseRoute] = [
        Mount("/orgs/{org:str}", routes=[Mount("/users", app=inner), Route("/settings", hidden)]),
        Mount("/static", app=StaticFiles(directory=tmp_path)),
        Mount("/", routes=[Route("/at-root", users)]),
        Host("api.example.com", app=Router(routes=[Route("/on-host", user)])),
        Host("{sub}.example.com", app=StaticFiles(directory=tmp_path)),
    ]
    assert schemas.get_endpoints(routes) == [
        EndpointInfo("/orgs/{org}/users/", "get", users),
        EndpointInfo("/orgs/{org}/users/{id}", "get", user),
        EndpointInfo("/orgs/{org}/settings", "get", hidden),
        EndpointInfo("/at-root", "get", users),
        EndpointInfo("/on-host", "get", user),
    ]


def test_full_schema_of_mixed_routes() -> None:
    routes: list[BaseRoute] = [
        Route("/organisations", Organisations),
        Mount("/users", routes=[Route("/{id:int}", user, methods=["GET", "POST"])]),
        Route("/undocumented", undocumented),
    ]
    assert schemas.get_schema(routes) == {
        "openapi": "3.0.0",
        "info": {"title": "Example API", "version": "1.0"},
        "paths": {
            "/organisations": {
                "get": {"summary": "list organisations"},
                "post": {"summary": "create an organisation"},
            },
            "/users/{id}": {"get": {"summary": "a user"}, "post": {"summary": "a user"}},
        },
    }


def test_partial_endpoints_use_the_function_docstring() -> None:
    endpoint = functools.partial(user)
    assert schemas.get_endpoints([Route("/p", endpoint)]) == [EndpointInfo("/p", "get", endpoint)]
    assert schemas.get_schema([Route("/p", endpoint)])["paths"] == {"/p": {"get": {"summary": "a user"}}}


def test_bound_methods_are_function_endpoints() -> None:
    class Views:
        def show(self, request: Request) -> Response:
            """summary: shown"""
            raise NotImplementedError()  # pragma: no cover - documentation only

    show = Views().show
    assert schemas.get_endpoints([Route("/show", show, methods=["POST"])]) == [EndpointInfo("/show", "post", show)]


@given(
    segments=st.lists(
        st.tuples(
            st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True),
            st.sampled_from(["", ":int", ":str", ":path", ":float", ":uuid"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_convertors_are_removed_from_paths(segments: list[tuple[str, str]]) -> None:
    names = [f"p{index}_{name}" for index, (name, _) in enumerate(segments)]
    path = "".join(f"/x/{{{name}{convertor}}}" for name, (_, convertor) in zip(names, segments, strict=True))
    [endpoint] = schemas.get_endpoints([Route(path, users)])
    assert endpoint.path == "".join(f"/x/{{{name}}}" for name in names)


# --------------------------------------------------------------------------------------------
# Docstrings


def test_parse_docstring() -> None:
    def prose(request: Request) -> None:
        """Just some prose, not YAML."""

    def yaml_list(request: Request) -> None:
        """
        - a
        - b
        """

    def separated(request: Request) -> None:
        """
        Describe the endpoint: the part before the last separator is ignored.
        ---
        ignored: true
        ---
        summary: last part
        tags: [a, b]
        """

    assert schemas.parse_docstring(undocumented) == {}
    assert schemas.parse_docstring(prose) == {}
    assert schemas.parse_docstring(yaml_list) == {}
    assert schemas.parse_docstring(separated) == {"summary": "last part", "tags": ["a", "b"]}
    assert schemas.parse_docstring(Organisations.post) == {"summary": "create an organisation"}


def test_invalid_yaml_is_an_error() -> None:
    def broken(request: Request) -> None:
        """a: b: c"""

    with pytest.raises(yaml.YAMLError):
        schemas.parse_docstring(broken)


# --------------------------------------------------------------------------------------------
# Responses and generators


def test_openapi_response_renders_yaml() -> None:
    response = OpenAPIResponse({"b": [1, 2], "a": {"x": "y"}})
    assert response.media_type == "application/vnd.oai.openapi"
    assert response.body == b"a:\n  x: y\nb:\n- 1\n- 2\n"
    assert response.headers["content-type"] == "application/vnd.oai.openapi"


def test_openapi_response_needs_a_dict() -> None:
    with pytest.raises(AssertionError, match="The schema passed to OpenAPIResponse should be a dictionary."):
        OpenAPIResponse(["not", "a", "dict"])


def test_base_schema_generator_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        BaseSchemaGenerator().get_schema([])


def test_custom_generator_through_openapi_response(test_client_factory: TestClientFactory) -> None:
    class CountingGenerator(BaseSchemaGenerator):
        def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
            return {"count": len(self.get_endpoints(routes))}

    generator = CountingGenerator()

    def schema(request: Request) -> Response:
        return generator.OpenAPIResponse(request)

    app = Starlette(routes=[Route("/schema", schema, include_in_schema=False), Route("/users", users)])
    response = test_client_factory(app).get("/schema")
    assert response.text == "count: 1\n"


def test_base_schema_is_not_mutated() -> None:
    base: dict[str, Any] = {"openapi": "3.0.0", "paths": {"/existing": {"get": {"summary": "kept"}}}}
    generator = SchemaGenerator(base)
    assert generator.base_schema is base
    schema = generator.get_schema([Route("/existing", users, methods=["POST"]), Route("/users", users)])
    assert schema["paths"] == {
        "/existing": {"get": {"summary": "kept"}, "post": {"summary": "users"}},
        "/users": {"get": {"summary": "users"}},
    }
    assert base == {"openapi": "3.0.0", "paths": {"/existing": {"get": {"summary": "kept"}}}}


# --------------------------------------------------------------------------------------------
# Without pyyaml installed


def load_without_yaml(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of starlette.schemas, executed as if pyyaml were not installed."""
    monkeypatch.setitem(sys.modules, "yaml", None)
    spec = importlib.util.spec_from_file_location("_schemas_without_yaml", starlette.schemas.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_without_yaml(monkeypatch)
    with pytest.raises(AssertionError, match="`pyyaml` must be installed to use OpenAPIResponse."):
        module.OpenAPIResponse({})
    generator = module.SchemaGenerator({})
    with pytest.raises(AssertionError, match="`pyyaml` must be installed to use parse_docstring."):
        generator.parse_docstring(users)
    assert generator.parse_docstring(undocumented) == {}


# --------------------------------------------------------------------------------------------
# Audit additions: mounted applications, middleware-wrapped mounts, hidden endpoint classes


def test_mounted_applications_and_middleware_wrapped_mounts() -> None:
    from starlette.middleware import Middleware
    from starlette.middleware.gzip import GZipMiddleware

    sub_app = Starlette(routes=[Route("/items/{item_id:uuid}", user), Route("/orgs", Organisations)])
    routes: list[BaseRoute] = [
        Mount("/v1", app=sub_app),
        Mount("/v2", routes=[Route("/users", users)], middleware=[Middleware(GZipMiddleware)]),
        Host("api.example.com", app=Router(routes=[Mount("/deep/{x:path}", routes=[Route("/leaf", user)])])),
    ]
    assert schemas.get_endpoints(routes) == [
        EndpointInfo("/v1/items/{item_id}", "get", user),
        EndpointInfo("/v1/orgs", "get", Organisations.get),
        EndpointInfo("/v1/orgs", "post", Organisations.post),
        EndpointInfo("/v1/orgs", "delete", Organisations.delete),
        EndpointInfo("/v2/users", "get", users),
        EndpointInfo("/deep/{x}/leaf", "get", user),
    ]


def test_hidden_endpoint_class_and_hidden_routes_in_mounts() -> None:
    routes: list[BaseRoute] = [
        Route("/organisations", Organisations, include_in_schema=False),
        Mount("/m", routes=[Route("/hidden", hidden, include_in_schema=False), Route("/users", users)]),
    ]
    assert schemas.get_schema(routes)["paths"] == {"/m/users": {"get": {"summary": "users"}}}


def test_schema_of_the_application_routes(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/schema", openapi_schema, include_in_schema=False),
            Mount("/api", routes=[Route("/orgs", Organisations), Route("/users/{id:int}", user, methods=["PUT"])]),
        ]
    )
    response = test_client_factory(app).get("/schema")
    assert response.status_code == 200
    assert response.text == (
        "info:\n"
        "  title: Example API\n"
        "  version: '1.0'\n"
        "openapi: 3.0.0\n"
        "paths:\n"
        "  /api/orgs:\n"
        "    get:\n"
        "      summary: list organisations\n"
        "    post:\n"
        "      summary: create an organisation\n"
        "  /api/users/{id}:\n"
        "    put:\n"
        "      summary: a user\n"
    )


def test_documented_example_yaml_output() -> None:
    schema = schemas.get_schema(routes=doc_app.routes)
    assert yaml.dump(schema, default_flow_style=False) == (
        "info:\n"
        "  title: Example API\n"
        "  version: '1.0'\n"
        "openapi: 3.0.0\n"
        "paths:\n"
        "  /users:\n"
        "    get:\n"
        "      responses:\n"
        "        200:\n"
        "          description: A list of users.\n"
        "          examples:\n"
        "          - username: tom\n"
        "          - username: lucy\n"
        "    post:\n"
        "      responses:\n"
        "        200:\n"
        "          description: A user.\n"
        "          examples:\n"
        "            username: tom\n"
    )


_yaml_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12).filter(
    lambda text: "---" not in text
)
_yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | _yaml_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_yaml_text, children, max_size=3),
    max_leaves=8,
)


@given(
    schema=st.dictionaries(_yaml_text, _yaml_values, min_size=1, max_size=4),
    prose=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).filter(
        lambda text: "---" not in text
    ),
)
def test_parse_docstring_round_trips_the_yaml_after_the_separator(schema: dict[str, Any], prose: str) -> None:
    def endpoint(request: Request) -> None:
        raise NotImplementedError()  # pragma: no cover - documentation only

    endpoint.__doc__ = f"{prose}\n---\n{yaml.safe_dump(schema, allow_unicode=True)}"
    assert schemas.parse_docstring(endpoint) == schema
