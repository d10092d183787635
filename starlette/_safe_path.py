"""Mapping a URL path onto a file below a directory without ever leaving that directory.

Theory of operation: the URL path is split on "/" and re-joined with the OS separator, then
normalised, so "a/../b" becomes "b" and a leading "/" cannot make it absolute. What remains may
still climb out ("../../etc/passwd") or, through a symbolic link, point elsewhere. So the
candidate is joined to the directory and made absolute, and it is accepted only when the
directory is the common path of both: a component-wise comparison, so "/srv/static-secret" is
not inside "/srv/static" although it starts with the same characters. Without `follow_symlink`
both sides go through `realpath` (links resolved: a link is served only when its target is
inside the directory, and the directory may itself be a link); with it both go through `abspath`
(links followed wherever they lead, "." and ".." still resolved lexically, before any link).
Names no file can have (a NUL byte, a lone surrogate that the file system encoding refuses)
are misses rather than errors.
"""

from __future__ import annotations

import os


def url_path_to_relative(route_path: str) -> str:
    """The normalised relative file system path of `route_path` ("." for the directory itself)."""
    return os.path.normpath(os.path.join(*route_path.split("/")))


def resolve_inside(directory: str | os.PathLike[str], path: str, follow_symlink: bool) -> str | None:
    """The full path of `path` below `directory`, or None when it would lie outside it (or
    cannot name a file at all)."""
    if "\x00" in path:
        return None
    try:
        os.fsencode(path)
    except UnicodeEncodeError:
        return None
    joined = os.path.join(directory, path)
    if follow_symlink:
        full_path, root = os.path.abspath(joined), os.path.abspath(directory)
    else:
        full_path, root = os.path.realpath(joined), os.path.realpath(directory)
    try:
        common = os.path.commonpath([full_path, root])
    except ValueError:  # Windows: the paths are on different drives
        return None
    if common != root:
        return None
    return full_path
