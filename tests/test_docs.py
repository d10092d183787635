"""The user documentation, executed.

Every ```python block in docs/*.md must compile. Every block is also executed in a fresh module,
unless the line before its fence is `<!-- test: compile-only -->`. A block preceded by
`<!-- test: NAME -->` is then handed to the check registered here under NAME, which drives the
example (usually through a `TestClient`) and asserts what the surrounding prose promises. A block
that defines a module-level `app` must have such a check.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from starlette.middleware.gzip import GZipMiddleware

from tests.types import TestClientFactory

DOCS = Path(__file__).parent.parent / "docs"
MKDOCS_YML = Path(__file__).parent.parent / "mkdocs.yml"

_FENCE = re.compile(r"^```python\n(?P<code>.*?)^```$", re.DOTALL | re.MULTILINE)
_MARKER = re.compile(r"<!-- test: (?P<name>[a-z0-9-]+) -->\n$")
COMPILE_ONLY = "compile-only"


@dataclasses.dataclass(frozen=True)
class Example:
    """One ```python block of the documentation."""

    page: str
    line: int
    name: str | None
    code: str

    @property
    def label(self) -> str:
        return self.name or f"{self.page}:{self.line}"

    def defines_app(self) -> bool:
        """Whether the block binds `app` at module level."""
        for node in ast.parse(self.code).body:
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == "app":
                return True
            if any(isinstance(target, ast.Name) and target.id == "app" for target in targets):
                return True
        return False


def collect_examples() -> list[Example]:
    examples: list[Example] = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            before = text[: match.start()]
            marker = _MARKER.search(before[before.rfind("\n", 0, len(before) - 1) + 1 :])
            examples.append(
                Example(
                    page=page.name,
                    line=before.count("\n") + 1,
                    name=marker["name"] if marker else None,
                    code=match["code"],
                )
            )
    return examples


EXAMPLES = collect_examples()
Check = Callable[[types.ModuleType, TestClientFactory], None]
CHECKS: dict[str, Check] = {}
FILES: dict[str, dict[str, str]] = {}


def check(name: str, files: dict[str, str] | None = None) -> Callable[[Check], Check]:
    """Register `func` as the check of the example called `name`; `files` are created (relative
    to a fresh working directory) before the example runs."""

    def register(func: Check) -> Check:
        assert name not in CHECKS, name
        CHECKS[name] = func
        if files is not None:
            FILES[name] = files
        return func

    return register


@pytest.fixture
def example_module(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """Execute the example in a fresh module (registered in sys.modules while the test runs,
    as dataclasses and typing need), with a temporary directory as working directory."""
    example: Example = request.param
    for relative, content in FILES.get(example.name or "", {}).items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType(f"docs_example_{example.label.replace('-', '_').replace(':', '_').replace('.', '_')}")
    module.__file__ = str(tmp_path / "example.py")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(example.code, f"{example.page}:{example.line}", "exec"), module.__dict__)
    yield module


def _params(examples: list[Example]) -> list[object]:
    return [pytest.param(example, id=example.label) for example in examples]


EXECUTED = [example for example in EXAMPLES if example.name != COMPILE_ONLY]


@pytest.mark.parametrize("example", _params(EXAMPLES))
def test_block_compiles(example: Example) -> None:
    compile(example.code, f"{example.page}:{example.line}", "exec")


@pytest.mark.parametrize(
    "example_module", _params([e for e in EXECUTED if e.name is None]), indirect=True
)
def test_block_runs(example_module: types.ModuleType) -> None:
    assert example_module.__dict__


@pytest.mark.parametrize(
    "example_module", _params([e for e in EXECUTED if e.name is not None]), indirect=True
)
def test_example_behaves_as_documented(
    request: pytest.FixtureRequest, example_module: types.ModuleType, test_client_factory: TestClientFactory
) -> None:
    example: Example = request.node.callspec.params["example_module"]
    CHECKS[example.label](example_module, test_client_factory)


def test_examples_defining_an_app_are_checked() -> None:
    unchecked = [e.label for e in EXAMPLES if e.defines_app() and e.name in (None, COMPILE_ONLY)]
    assert unchecked == []


def test_every_check_has_its_example() -> None:
    names = [e.name for e in EXAMPLES if e.name not in (None, COMPILE_ONLY)]
    assert len(names) == len(set(names)), "example names must be unique"
    assert sorted(CHECKS) == sorted(names)


def test_every_page_is_in_the_nav() -> None:
    nav = set(re.findall(r"^\s*- [^:]+: (\S+\.md)$", MKDOCS_YML.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert nav == {page.name for page in DOCS.glob("*.md")}


# ---------------------------------------------------------------------------------------------
# index.md
# ---------------------------------------------------------------------------------------------


@check("index-first-app")
def _index_first_app(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/greet/Ada").text == "Good morning, Ada."
    assert client.get("/").text == "Good morning, stranger."
    response = client.get("/health")
    assert response.json() == {"status": "ok"}
    assert response.text == '{"status":"ok"}'
    missing = client.get("/nowhere")
    assert (missing.status_code, missing.text) == (404, "Not Found")
    assert missing.headers["content-type"] == "text/plain; charset=utf-8"


@check("index-raw-asgi")
def _index_raw_asgi(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/some/where").text == "You asked for /some/where"


# ---------------------------------------------------------------------------------------------
# applications.md
# ---------------------------------------------------------------------------------------------


@check("applications-complete")
def _applications_complete(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    app = module.app
    with client_factory(app) as client:
        assert app.state.started is True
        assert client.get("/books/").json() == ["Dune", "Solaris"]
        assert client.get("/books/2").text == "Solaris"
        assert client.get("/books/9").text == "unknown"
        assert client.get("/books/x").status_code == 404
        with client.websocket_connect("/ticker") as websocket:
            assert websocket.receive_json() == {"books": 2}
    assert app.state.started is False
    with pytest.raises(RuntimeError, match="^Cannot add middleware after an application has started$"):
        app.add_middleware(GZipMiddleware)


@check("applications-methods")
def _applications_methods(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    client = client_factory(module.app)
    assert client.get("/status").text == "all good"
    for method in ("GET", "POST"):
        response = client.request(method, "/teapot")
        assert (response.status_code, response.json()) == (418, {"error": "short and stout"})
    assert client.put("/teapot").status_code == 405
    assert module.app.url_path_for("status") == "/status"


@check("applications-state")
def _applications_state(module: types.ModuleType, client_factory: TestClientFactory) -> None:
    assert client_factory(module.app).get("/contact").text == "Write to help@example.net"
    with pytest.raises(AttributeError):
        module.app.state.missing  # noqa: B018
