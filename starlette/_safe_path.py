"""Mapping a URL path onto a file below a directory without ever leaving that directory.

Theory of operation: the URL path is split on "/" and re-joined with the OS separator, then
normalised, so "a/../b" becomes "b" and a leading "/" cannot make it absolute. What remains may
still climb out ("../../etc/passwd") or, through a symbolic link, point elsewhere. So the
candidate is joined to the directory and made absolute, and it is accepted only when the
directory is the common path of both. Without `follow_symlink` both sides go through
`realpath` (links resolved: a link is served only when its target is inside the directory, and
the directory may itself be a link); with it both go through `abspath` (links followed wherever
they lead, "." and ".." still resolved lexically).
"""

from __future__ import annotations

import os


def url_path_to_relative(route_path: str) -> str:
    """The normalised relative file system path of `route_path` ("." for the directory itself)."""
    return os.path.normpath(os.path.join(*route_path.split("/")))


def resolve_inside(directory: str | os.PathLike[str], path: str, follow_symlink: bool) -> str | None:
    """The full path of `path` below `directory`, or None when it would lie outside it."""
    if "\x00" in path:
        return None  # no file name can hold a NUL byte (os calls raise ValueError on it)
    joined = os.path.join(directory, path)
    if follow_symlink:
        full_path, root = os.path.abspath(joined), os.path.abspath(directory)
    else:
        full_path, root = os.path.realpath(joined), os.path.realpath(directory)
    if os.path.commonpath([full_path, root]) != root:
        return None
    return full_path
