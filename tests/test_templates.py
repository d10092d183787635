from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import pytest

import starlette.templating
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import Message, Scope
from tests.types import TestClientFactory

# --------------------------------------------------------------------------------------------
# Helpers


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def app_with(endpoint: Any, *routes: Route | Mount) -> Starlette:
    return Starlette(routes=[Route("/", endpoint), *routes])


def make_request(path: str = "/", extensions: dict[str, Any] | None = None, scope_type: str = "http") -> Request:
    scope: Scope = {
        "type": scope_type,
        "method": "GET",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": ("testserver", 80),
    }
    if extensions is not None:
        scope["extensions"] = extensions
    return Request(scope)


async def send_response(response: Response, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}  # pragma: no cover - never read

    async def send(message: Message) -> None:
        sent.append(message)

    await response(scope, receive, send)
    return sent


@pytest.fixture
def templates(tmp_path: Path) -> Jinja2Templates:
    write(tmp_path / "index.html", "<html>Hello, <a href='{{ url_for('homepage') }}'>world</a></html>")
    write(tmp_path / "greet.html", "Hello {{ name }}!")
    return Jinja2Templates(directory=str(tmp_path))


# --------------------------------------------------------------------------------------------
# Rendering


def test_template_response(test_client_factory: TestClientFactory, templates: Jinja2Templates) -> None:
    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "index.html")

    client = test_client_factory(app_with(homepage))
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "<html>Hello, <a href='http://testserver/'>world</a></html>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.template.name == "index.html"  # type: ignore[attr-defined]  # set by the test client
    assert set(response.context) == {"request"}  # type: ignore[attr-defined]  # set by the test client
    assert isinstance(response.context["request"], Request)  # type: ignore[attr-defined]  # set by the test client


def test_response_is_html_with_template_and_context(templates: Jinja2Templates) -> None:
    request = make_request()
    response = templates.TemplateResponse(request, "greet.html", {"name": "Tom"})
    assert isinstance(response, HTMLResponse)
    assert response.body == b"Hello Tom!"
    assert response.template is templates.get_template("greet.html")
    assert response.context == {"name": "Tom", "request": request}


def test_all_arguments_positionally_and_by_keyword(templates: Jinja2Templates) -> None:
    task = BackgroundTask(print)
    request = make_request()
    positional = templates.TemplateResponse(request, "greet.html", {"name": "A"}, 201, {"x-a": "1"}, "text/plain", task)
    by_keyword = templates.TemplateResponse(
        request=request,
        name="greet.html",
        context={"name": "A"},
        status_code=201,
        headers={"x-a": "1"},
        media_type="text/plain",
        background=task,
    )
    mixed = templates.TemplateResponse(
        request,
        name="greet.html",
        context={"name": "A"},
        status_code=201,
        headers={"x-a": "1"},
        media_type="text/plain",
        background=task,
    )
    for response in (positional, by_keyword, mixed):
        assert response.status_code == 201
        assert response.body == b"Hello A!"
        assert response.headers["x-a"] == "1"
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.background is task


def test_unknown_arguments_are_refused(templates: Jinja2Templates) -> None:
    with pytest.raises(TypeError):
        templates.TemplateResponse(make_request(), "greet.html", colour="red")  # type: ignore[call-overload]  # invalid on purpose
    with pytest.raises(TypeError):
        templates.TemplateResponse(make_request())  # type: ignore[call-overload]  # invalid on purpose


def test_context_is_not_mutated(templates: Jinja2Templates) -> None:
    context = {"name": "Tom"}
    response = templates.TemplateResponse(make_request(), "greet.html", context)
    assert context == {"name": "Tom"}
    assert response.context is not context


def test_request_in_context_is_kept(templates: Jinja2Templates) -> None:
    other = make_request("/other")
    response = templates.TemplateResponse(make_request(), "greet.html", {"request": other, "name": "x"})
    assert response.context["request"] is other


def test_background_task_runs(test_client_factory: TestClientFactory, templates: Jinja2Templates) -> None:
    ran: list[str] = []

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(
            request, "greet.html", {"name": "bg"}, background=BackgroundTask(ran.append, "done")
        )

    response = test_client_factory(app_with(homepage)).get("/")
    assert response.text == "Hello bg!"
    assert ran == ["done"]


def test_autoescape_is_on_by_default(templates: Jinja2Templates) -> None:
    response = templates.TemplateResponse(make_request(), "greet.html", {"name": "<b>"})
    assert response.body == b"Hello &lt;b&gt;!"


def test_missing_template(templates: Jinja2Templates) -> None:
    with pytest.raises(jinja2.TemplateNotFound):
        templates.TemplateResponse(make_request(), "missing.html")
    with pytest.raises(jinja2.TemplateNotFound):
        templates.get_template("missing.html")


def test_several_directories(tmp_path: Path) -> None:
    write(tmp_path / "one" / "a.html", "one a")
    write(tmp_path / "two" / "a.html", "two a")
    write(tmp_path / "two" / "b.html", "two b")
    templates = Jinja2Templates(directory=[tmp_path / "one", str(tmp_path / "two")])
    assert templates.get_template("a.html").render() == "one a"
    assert templates.get_template("b.html").render() == "two b"


def test_pathlike_directory(tmp_path: Path) -> None:
    write(tmp_path / "a.html", "path a")
    assert Jinja2Templates(directory=tmp_path).get_template("a.html").render() == "path a"


# --------------------------------------------------------------------------------------------
# url_for


def test_url_for_routes_and_static_files(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    links = "{{ url_for('user', name='tom', id=3) }} {{ url_for('static', path='/css/site.css') }}"
    write(tmp_path / "templates" / "links.html", links)
    (tmp_path / "static").mkdir()
    templates = Jinja2Templates(directory=tmp_path / "templates")

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "links.html")

    async def user(request: Request) -> Response:
        raise NotImplementedError()  # pragma: no cover - only linked to

    app = app_with(
        homepage,
        Route("/users/{name}/{id:int}", user, name="user"),
        Mount("/static", StaticFiles(directory=tmp_path / "static"), name="static"),
    )
    response = test_client_factory(app, root_path="/root").get("/root/")
    assert response.text == "http://testserver/root/users/tom/3 http://testserver/root/static/css/site.css"


def test_url_for_in_a_custom_environment(test_client_factory: TestClientFactory) -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"home.html": "{{ url_for('homepage') }}"}))
    templates = Jinja2Templates(env=env)
    assert templates.env is env
    assert "url_for" in env.globals

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "home.html")

    assert test_client_factory(app_with(homepage)).get("/").text == "http://testserver/"


def test_existing_url_for_global_is_kept() -> None:
    def my_url_for(name: str) -> str:
        return "mine:" + name

    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "{{ url_for('x') }}"}))
    env.globals["url_for"] = my_url_for
    templates = Jinja2Templates(env=env)
    assert templates.TemplateResponse(make_request(), "a.html").body == b"mine:x"


# --------------------------------------------------------------------------------------------
# Context processors


def test_context_processors(test_client_factory: TestClientFactory) -> None:
    seen: list[Request] = []

    def first(request: Request) -> dict[str, Any]:
        seen.append(request)
        return {"user": "tom", "site": "first"}

    def second(request: Request) -> dict[str, Any]:
        return {"site": "second"}

    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "{{ user }} {{ site }} {{ page }}"}))
    templates = Jinja2Templates(env=env, context_processors=[first, second])
    assert templates.context_processors == [first, second]

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "a.html", {"page": "home", "site": "mine"})

    response = test_client_factory(app_with(homepage)).get("/")
    assert response.text == "tom second home"
    assert response.context["user"] == "tom"  # type: ignore[attr-defined]  # set by the test client
    assert len(seen) == 1 and seen[0].url.path == "/"


def test_no_context_processors_by_default(templates: Jinja2Templates) -> None:
    assert templates.context_processors == []


# --------------------------------------------------------------------------------------------
# Construction


def test_directory_or_env_is_required(tmp_path: Path) -> None:
    env = jinja2.Environment()
    message = "either 'directory' or 'env' arguments must be passed"
    with pytest.raises(AssertionError, match=message):
        Jinja2Templates()  # type: ignore[call-overload]  # deliberately wrong
    with pytest.raises(AssertionError, match=message):
        Jinja2Templates(directory=tmp_path, env=env)
    with pytest.raises(AssertionError, match=message):
        Jinja2Templates(directory="")


def test_env_options_are_deprecated_but_applied(tmp_path: Path) -> None:
    write(tmp_path / "a.html", "{{ value }}")
    with pytest.warns(DeprecationWarning, match="Extra environment options are deprecated"):
        templates = Jinja2Templates(directory=tmp_path, autoescape=False, auto_reload=False)
    assert templates.env.autoescape is False
    assert templates.env.auto_reload is False
    assert templates.TemplateResponse(make_request(), "a.html", {"value": "<b>"}).body == b"<b>"


def test_loader_env_option_replaces_the_directory_loader(tmp_path: Path) -> None:
    loader = jinja2.DictLoader({"a.html": "from dict"})
    with pytest.warns(DeprecationWarning):
        templates = Jinja2Templates(directory=tmp_path, loader=loader)
    assert templates.env.loader is loader


def test_default_environment(tmp_path: Path) -> None:
    templates = Jinja2Templates(directory=tmp_path)
    assert isinstance(templates.env.loader, jinja2.FileSystemLoader)
    assert templates.env.loader.searchpath == [str(tmp_path)]
    assert templates.env.autoescape is True


# --------------------------------------------------------------------------------------------
# Deprecated calling conventions


def test_name_first_is_deprecated_but_works(templates: Jinja2Templates) -> None:
    request = make_request()
    with pytest.warns(DeprecationWarning, match="first argument of `TemplateResponse` is now the `Request`"):
        response = templates.TemplateResponse("greet.html", {"request": request, "name": "old"})
    assert response.body == b"Hello old!"
    assert response.context["request"] is request


def test_name_first_with_every_argument(templates: Jinja2Templates) -> None:
    task = BackgroundTask(print)
    with pytest.warns(DeprecationWarning):
        response = templates.TemplateResponse(
            "greet.html", {"request": make_request(), "name": "x"}, 202, {"x-b": "2"}, "text/plain", task
        )
    assert (response.status_code, response.body, response.headers["x-b"]) == (202, b"Hello x!", "2")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.background is task


def test_name_first_needs_request_in_context(templates: Jinja2Templates) -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match='context must include a "request" key'):
        templates.TemplateResponse("greet.html", {"name": "x"})
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match='context must include a "request" key'):
        templates.TemplateResponse("greet.html")


def test_keywords_without_request_are_deprecated(templates: Jinja2Templates) -> None:
    request = make_request()
    with pytest.warns(DeprecationWarning, match="now requires the `request` argument"):
        response = templates.TemplateResponse(name="greet.html", context={"request": request, "name": "kw"})
    assert response.body == b"Hello kw!"
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match='context must include a "request" key'):
        templates.TemplateResponse(name="greet.html", context={"name": "kw"})


def test_name_first_with_request_keyword_is_not_deprecated(templates: Jinja2Templates) -> None:
    request = make_request()
    response = templates.TemplateResponse("greet.html", {"name": "n"}, request=request)
    assert response.body == b"Hello n!"
    assert response.context["request"] is request


def test_deprecation_points_at_the_caller(templates: Jinja2Templates) -> None:
    with pytest.warns(DeprecationWarning) as record:
        templates.TemplateResponse("greet.html", {"request": make_request(), "name": "x"})
    assert record[0].filename == __file__


# --------------------------------------------------------------------------------------------
# The debug extension


@pytest.mark.anyio
async def test_debug_message_only_when_the_extension_is_offered(templates: Jinja2Templates) -> None:
    with_extension = make_request(extensions={"http.response.debug": {}})
    response = templates.TemplateResponse(with_extension, "greet.html", {"name": "d"})
    sent = await send_response(response, with_extension.scope)
    assert sent[0] == {
        "type": "http.response.debug",
        "info": {"template": response.template, "context": response.context},
    }
    assert [message["type"] for message in sent] == ["http.response.debug", "http.response.start", "http.response.body"]

    for request in (make_request(), make_request(extensions={})):
        sent = await send_response(templates.TemplateResponse(request, "greet.html"), request.scope)
        assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
        assert sent[1]["body"] == b"Hello !"


@pytest.mark.anyio
async def test_no_debug_message_on_a_websocket_denial(templates: Jinja2Templates) -> None:
    request = make_request(extensions={"http.response.debug": {}})
    response = templates.TemplateResponse(request, "greet.html", {"name": "ws"}, status_code=403)
    scope = dict(request.scope, type="websocket")
    sent = await send_response(response, scope)
    assert [message["type"] for message in sent] == ["websocket.http.response.start", "websocket.http.response.body"]
    assert sent[0]["status"] == 403


# --------------------------------------------------------------------------------------------
# Without jinja2 installed


def load_without_jinja2(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of starlette.templating, executed as if jinja2 were not installed."""
    monkeypatch.setitem(sys.modules, "jinja2", None)
    spec = importlib.util.spec_from_file_location("_templating_without_jinja2", starlette.templating.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_import_works_without_jinja2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    module = load_without_jinja2(monkeypatch)
    with pytest.raises(AssertionError, match="jinja2 must be installed to use Jinja2Templates"):
        module.Jinja2Templates(directory=tmp_path)


# --------------------------------------------------------------------------------------------
# Audit additions: url_for behind mounts, the documented recipes, wire-level arguments


def test_url_for_behind_a_mount_and_root_path(test_client_factory: TestClientFactory) -> None:
    links = "{{ url_for('homepage') }}|{{ url_for('admin:user', name='tom') }}|"
    links += "{{ url_for('admin:files', path='/x/y.css') }}"
    env = jinja2.Environment(loader=jinja2.DictLoader({"links.html": links}))
    templates = Jinja2Templates(env=env)

    async def page(request: Request) -> Response:
        return templates.TemplateResponse(request, "links.html")

    async def homepage(request: Request) -> Response:
        raise NotImplementedError()  # pragma: no cover - only linked to

    admin = Mount(
        "/admin",
        name="admin",
        routes=[
            Route("/page", page),
            Route("/users/{name}", homepage, name="user"),
            Mount("/files", routes=[], name="files"),
        ],
    )
    app = Starlette(routes=[Route("/", homepage, name="homepage"), admin])
    expected = (
        "http://testserver{root}/|http://testserver{root}/admin/users/tom|http://testserver{root}/admin/files/x/y.css"
    )
    for root_path in ("", "/root"):
        response = test_client_factory(app, root_path=root_path).get(root_path + "/admin/page")
        assert response.status_code == 200
        assert response.text == expected.format(root=root_path)
        assert response.context["request"].url.path == root_path + "/admin/page"  # type: ignore[attr-defined]  # set by the test client


def test_url_for_inside_a_mounted_application(test_client_factory: TestClientFactory) -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "{{ url_for('sub:detail', id=7) }}"}))
    templates = Jinja2Templates(env=env)

    async def page(request: Request) -> Response:
        return templates.TemplateResponse(request, "a.html")

    sub = Starlette(routes=[Route("/page", page), Route("/detail/{id:int}", page, name="detail")])
    app = Starlette(routes=[Mount("/sub", app=sub, name="sub")])
    response = test_client_factory(app, root_path="/r").get("/r/sub/page")
    assert response.text == "http://testserver/r/sub/detail/7"


def test_url_for_unknown_route_is_an_error(test_client_factory: TestClientFactory) -> None:
    from starlette.routing import NoMatchFound

    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "{{ url_for('nowhere') }}"}))
    templates = Jinja2Templates(env=env)

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "a.html")

    with pytest.raises(NoMatchFound):
        test_client_factory(app_with(homepage)).get("/")


def test_documented_context_processor_and_custom_filter(test_client_factory: TestClientFactory, tmp_path: Path) -> None:
    write(tmp_path / "index.html", "{{ app.state.title }}: {{ text | marked }}")

    def app_context(request: Request) -> dict[str, Any]:
        return {"app": request.app}

    templates = Jinja2Templates(directory=tmp_path, context_processors=[app_context])
    templates.env.filters["marked"] = lambda text: f"<p>{text}</p>"

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "index.html", {"text": "hi"})

    app = app_with(homepage)
    app.state.title = "Site"
    response = test_client_factory(app).get("/")
    assert response.text == "Site: &lt;p&gt;hi&lt;/p&gt;"  # autoescaped: the filter returns a plain str
    assert response.context["app"] is app  # type: ignore[attr-defined]  # set by the test client
    assert set(response.context) == {"request", "app", "text"}  # type: ignore[attr-defined]  # set by the test client


def test_status_headers_and_media_type_on_the_wire(test_client_factory: TestClientFactory) -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"404.html": "<h1>{{ what }} not found</h1>"}))
    templates = Jinja2Templates(env=env)

    async def missing(request: Request) -> Response:
        return templates.TemplateResponse(
            request, "404.html", {"what": "page"}, status_code=404, headers={"x-custom": "yes"}, media_type="text/xml"
        )

    response = test_client_factory(app_with(missing)).get("/")
    assert response.status_code == 404
    assert response.text == "<h1>page not found</h1>"
    assert response.headers["x-custom"] == "yes"
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.template.name == "404.html"  # type: ignore[attr-defined]  # set by the test client


def test_head_request_sends_no_body(test_client_factory: TestClientFactory, templates: Jinja2Templates) -> None:
    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "greet.html", {"name": "head"})

    response = test_client_factory(app_with(homepage)).head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(b"Hello head!"))


def test_old_argument_order_end_to_end(test_client_factory: TestClientFactory, templates: Jinja2Templates) -> None:
    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse("greet.html", {"request": request, "name": "legacy"}, 201)

    client = test_client_factory(app_with(homepage))
    with pytest.warns(DeprecationWarning):
        response = client.get("/")
    assert response.status_code == 201
    assert response.text == "Hello legacy!"
    assert response.template.name == "greet.html"  # type: ignore[attr-defined]  # set by the test client


def test_template_and_context_survive_base_http_middleware(
    test_client_factory: TestClientFactory, templates: Jinja2Templates
) -> None:
    from starlette.middleware import Middleware
    from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

    class Passthrough(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            return await call_next(request)

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "greet.html", {"name": "mw"})

    app = Starlette(routes=[Route("/", homepage)], middleware=[Middleware(Passthrough)])
    response = test_client_factory(app).get("/")
    assert response.text == "Hello mw!"
    assert response.template.name == "greet.html"  # type: ignore[attr-defined]  # set by the test client
    assert response.context["name"] == "mw"  # type: ignore[attr-defined]  # set by the test client


def test_custom_environment_is_used_as_is(test_client_factory: TestClientFactory) -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"a.html": "{{ value }}|{{ missing }}"}), undefined=jinja2.StrictUndefined
    )
    templates = Jinja2Templates(env=env)
    assert templates.env.autoescape is False  # a ready-made environment keeps its own settings
    response = templates.TemplateResponse(make_request(), "a.html", {"value": "<i>", "missing": 1})
    assert response.body == b"<i>|1"
    with pytest.raises(jinja2.UndefinedError):
        templates.TemplateResponse(make_request(), "a.html", {"value": "x"})


def test_env_options_reach_the_environment(tmp_path: Path) -> None:
    write(tmp_path / "a.html", "  {% if true %}\n<x>{{ v }}\n  {% endif %}\n")
    with pytest.warns(DeprecationWarning):
        templates = Jinja2Templates(directory=tmp_path, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    assert templates.TemplateResponse(make_request(), "a.html", {"v": "<b>"}).body == b"<x><b>\n"


def test_env_options_with_an_env_are_ignored_but_warned() -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "{{ v }}"}))
    with pytest.warns(DeprecationWarning, match="Extra environment options are deprecated"):
        templates = Jinja2Templates(env=env, autoescape=True)  # type: ignore[call-overload]  # deprecated on purpose
    assert templates.env is env
    assert env.autoescape is False
