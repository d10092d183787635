"""Jinja2 templates: an environment with a `url_for` global and responses that render them."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import Any, NamedTuple, overload

from starlette.background import BackgroundTask
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

try:
    import jinja2
except ModuleNotFoundError:  # jinja2 is optional: importing this module must still work
    _jinja2_installed = False
else:
    _jinja2_installed = True

__all__ = ["Jinja2Templates"]

_DEBUG_EXTENSION = "http.response.debug"

_NAME_FIRST_DEPRECATION = (
    "Passing the template name first is deprecated: the first argument of `TemplateResponse` is now "
    "the `Request`.\nReplace `TemplateResponse(name, {'request': request})` by `TemplateResponse(request, name)`."
)
_REQUEST_MISSING_DEPRECATION = (
    "`TemplateResponse` now requires the `request` argument.\n"
    "Replace `TemplateResponse(name=name, context={'request': request})` by `TemplateResponse(request, name)`."
)
_DIRECTORY_OR_ENV = "either 'directory' or 'env' arguments must be passed"
_ENV_OPTIONS_DEPRECATION = (
    "Extra environment options are deprecated. Pass a preconfigured jinja2.Environment as `env` instead."
)


class _TemplateResponse(HTMLResponse):
    """An HTML response rendered from `template` with `context`, both kept for inspection.

    When the server offers the `http.response.debug` extension (the test client does), the
    template and context are sent first in an `http.response.debug` message.
    """

    def __init__(
        self,
        template: jinja2.Template,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _DEBUG_EXTENSION in (scope.get("extensions") or {}):
            await send({"type": _DEBUG_EXTENSION, "info": {"template": self.template, "context": self.context}})
        await super().__call__(scope, receive, send)


class _Call(NamedTuple):
    request: Request | None
    name: str
    context: Mapping[str, Any] | None
    status_code: int
    headers: Mapping[str, str] | None
    media_type: str | None
    background: BackgroundTask | None


def _request_first(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str | None = None,
    background: BackgroundTask | None = None,
) -> _Call:
    return _Call(request, name, context, status_code, headers, media_type, background)


def _name_first(
    name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str | None = None,
    background: BackgroundTask | None = None,
    *,
    request: Request | None = None,
) -> _Call:
    return _Call(request, name, context, status_code, headers, media_type, background)


def _bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call:
    """Bind `TemplateResponse` arguments: `(request, name, context, ...)`, or the deprecated
    forms where the name comes first and the request is found in the context."""
    if args and not isinstance(args[0], str):
        return _request_first(*args, **kwargs)
    if not args and "request" in kwargs:
        return _request_first(**kwargs)
    call = _name_first(*args, **kwargs)
    if call.request is None:
        warnings.warn(
            _NAME_FIRST_DEPRECATION if args else _REQUEST_MISSING_DEPRECATION, DeprecationWarning, stacklevel=3
        )
        if call.context is None or "request" not in call.context:
            raise ValueError('context must include a "request" key')
        call = call._replace(request=call.context["request"])
    return call


if _jinja2_installed:

    @jinja2.pass_context
    def _url_for(context: jinja2.runtime.Context, name: str, /, **path_params: Any) -> URL:
        """The absolute URL of the route `name`, resolved through the context's request."""
        request: Request = context["request"]
        return request.url_for(name, **path_params)


class Jinja2Templates:
    """Templates loaded from `directory` (one or several), or a ready-made jinja2 `env`.

    The environment gets a `url_for(name, **path_params)` global that resolves routes through
    the request in the template context; `context_processors` add entries to every context.
    """

    @overload
    def __init__(
        self,
        directory: str | PathLike[str] | Sequence[str | PathLike[str]],
        *,
        context_processors: list[Callable[[Request], dict[str, Any]]] | None = None,
        **env_options: Any,
    ) -> None: ...

    @overload
    def __init__(
        self,
        directory: None = None,
        *,
        env: jinja2.Environment,
        context_processors: list[Callable[[Request], dict[str, Any]]] | None = None,
    ) -> None: ...

    def __init__(
        self,
        directory: str | PathLike[str] | Sequence[str | PathLike[str]] | None = None,
        *,
        context_processors: list[Callable[[Request], dict[str, Any]]] | None = None,
        env: jinja2.Environment | None = None,
        **env_options: Any,
    ) -> None:
        if env_options:
            warnings.warn(_ENV_OPTIONS_DEPRECATION, DeprecationWarning, stacklevel=2)
        if not _jinja2_installed:
            raise AssertionError("jinja2 must be installed to use Jinja2Templates")
        self.context_processors: list[Callable[[Request], dict[str, Any]]] = context_processors or []
        if env is None:
            if not directory:
                raise AssertionError(_DIRECTORY_OR_ENV)
            env_options.setdefault("loader", jinja2.FileSystemLoader(directory))
            env_options.setdefault("autoescape", True)
            env = jinja2.Environment(**env_options)
        elif directory:
            raise AssertionError(_DIRECTORY_OR_ENV)
        self.env = env
        env.globals.setdefault("url_for", _url_for)

    def get_template(self, name: str) -> jinja2.Template:
        """The template called `name`, from the environment's loader."""
        return self.env.get_template(name)

    # The overloads type the two call forms `_bind` accepts (the name-first one is deprecated
    # unless `request` is given); the implementation takes anything and binds it at runtime.
    @overload
    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse: ...

    @overload
    def TemplateResponse(
        self,
        name: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        *,
        request: Request | None = None,
    ) -> _TemplateResponse: ...

    def TemplateResponse(self, *args: Any, **kwargs: Any) -> _TemplateResponse:
        """Render a template into an HTML response.

        Call it as `TemplateResponse(request, name, context=None, status_code=200, headers=None,
        media_type=None, background=None)` (positionally or by keyword). The request is added to
        the context as "request", then each context processor's dict is merged in. The older
        `TemplateResponse(name, {"request": request, ...})` form still works but is deprecated.
        """
        request, name, context, status_code, headers, media_type, background = _bind(args, kwargs)
        assert request is not None  # _bind takes it from the context when it is not given
        full_context = dict(context) if context else {}
        full_context.setdefault("request", request)
        for processor in self.context_processors:
            full_context.update(processor(request))
        template = self.get_template(name)
        return _TemplateResponse(template, full_context, status_code, headers, media_type, background)
