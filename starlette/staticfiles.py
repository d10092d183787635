"""An ASGI app that serves the files below a directory (and/or Python packages' directories)."""

from __future__ import annotations

import errno
import importlib.util
import os
import stat
from typing import Union

import anyio
import anyio.to_thread

from starlette import _conditional, _safe_path
from starlette._utils import get_route_path
from starlette.datastructures import URL, Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

__all__ = ["NotModifiedResponse", "PathLike", "StaticFiles"]

PathLike = Union[str, "os.PathLike[str]"]

_ALLOWED_METHODS = ("GET", "HEAD")
# Errors that only say the requested name cannot exist: a miss, not a server fault.
_NOT_FOUND_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.ELOOP})


class NotModifiedResponse(Response):
    """A 304 response carrying only the headers a 304 may repeat from the full response."""

    NOT_MODIFIED_HEADERS = (
        "cache-control",
        "content-location",
        "date",
        "etag",
        "expires",
        "vary",
    )

    def __init__(self, headers: Headers):
        keep = self.NOT_MODIFIED_HEADERS
        super().__init__(status_code=304, headers={name: value for name, value in headers.items() if name in keep})


class StaticFiles:
    """Serve GET/HEAD requests for files below `directory` and the `packages`' static directories.

    The first directory holding the path wins. `html=True` serves `index.html` for directories
    (redirecting `/dir` to `/dir/`) and `404.html`, when present, for misses. Symbolic links
    leading outside the directories are refused unless `follow_symlink=True`.
    """

    def __init__(
        self,
        *,
        directory: PathLike | None = None,
        packages: list[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
    ) -> None:
        self.directory = directory
        self.packages = packages
        self.all_directories: list[PathLike] = self.get_directories(directory, packages)
        self.html = html
        self.config_checked: bool = False
        self.follow_symlink = follow_symlink
        if check_dir and directory is not None and not os.path.isdir(directory):
            raise RuntimeError(f"Directory '{directory}' does not exist")

    def get_directories(
        self,
        directory: PathLike | None = None,
        packages: list[str | tuple[str, str]] | None = None,
    ) -> list[PathLike]:
        """The directories to serve from, in lookup order: `directory`, then each package's
        static directory ("statics" unless given as `(package, directory)`)."""
        directories: list[PathLike] = []
        if directory is not None:
            directories.append(directory)
        for package in packages or []:
            if isinstance(package, tuple):
                package, statics_dir = package
            else:
                statics_dir = "statics"
            spec = importlib.util.find_spec(package)
            if spec is None or spec.origin is None:
                raise AssertionError(f"Package {package!r} could not be found.")
            package_directory = os.path.normpath(os.path.join(spec.origin, "..", statics_dir))
            if not os.path.isdir(package_directory):
                raise AssertionError(f"Directory '{statics_dir}' in package {package!r} could not be found.")
            directories.append(package_directory)
        return directories

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type != "http":
            if scope_type == "websocket":
                # Refuse the handshake, as a router does for a WebSocket it cannot route.
                await send({"type": "websocket.close", "code": 1000, "reason": ""})
                return
            raise AssertionError(f"StaticFiles only serves HTTP requests, not {scope_type!r}.")
        if not self.config_checked:
            await self.check_config()
            self.config_checked = True
        path = self.get_path(scope)
        response = await self.get_response(path, scope)
        await response(scope, receive, send)

    def get_path(self, scope: Scope) -> str:
        """The request's path below the mount point, as a normalised relative OS path."""
        return _safe_path.url_path_to_relative(get_route_path(scope))

    async def _lookup(self, path: str) -> tuple[str, os.stat_result | None]:
        try:
            return await anyio.to_thread.run_sync(self.lookup_path, path)
        except PermissionError:
            raise HTTPException(status_code=401)
        except OSError as exc:
            if exc.errno in _NOT_FOUND_ERRNOS:
                raise HTTPException(status_code=404)
            raise

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The response for `path` (from `get_path`); raises `HTTPException` 404/405/401."""
        if scope["method"] not in _ALLOWED_METHODS:
            raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})

        full_path, stat_result = await self._lookup(path)
        if stat_result is not None:
            if stat.S_ISREG(stat_result.st_mode):
                return self.file_response(full_path, stat_result, scope)
            if self.html and stat.S_ISDIR(stat_result.st_mode):
                full_path, stat_result = await self._lookup(os.path.join(path, "index.html"))
                if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
                    if not scope["path"].endswith("/"):
                        url = URL(scope=scope)
                        return RedirectResponse(url=url.replace(path=url.path + "/"))
                    return self.file_response(full_path, stat_result, scope)

        if self.html:
            full_path, stat_result = await self._lookup("404.html")
            if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
                return FileResponse(full_path, stat_result=stat_result, status_code=404)
        raise HTTPException(status_code=404)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """The full path and stat of the first match for `path` in the directories, or
        `("", None)`; paths leading outside a directory never match."""
        for directory in self.all_directories:
            full_path = _safe_path.resolve_inside(directory, path, self.follow_symlink)
            if full_path is None:
                continue
            try:
                return full_path, os.stat(full_path)
            except (FileNotFoundError, NotADirectoryError):
                continue
        return "", None

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """A `FileResponse` for the file, or a 304 when the request's validators still match."""
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response

    async def check_config(self) -> None:
        """Check that `directory` exists and is a directory (run once, on the first request)."""
        if self.directory is None:
            return
        try:
            stat_result = await anyio.to_thread.run_sync(os.stat, self.directory)
        except FileNotFoundError:
            raise RuntimeError(f"StaticFiles directory '{self.directory}' does not exist.")
        if not stat.S_ISDIR(stat_result.st_mode):
            raise RuntimeError(f"StaticFiles path '{self.directory}' is not a directory.")

    def is_not_modified(self, response_headers: Headers, request_headers: Headers) -> bool:
        """Whether `If-None-Match` (or, without it, `If-Modified-Since`) says the client's copy
        is current."""
        return _conditional.not_modified(response_headers, request_headers)
