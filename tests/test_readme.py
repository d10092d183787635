"""The README's minimal application, served by a real uvicorn process exactly as the README says."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

README = Path(__file__).parent.parent / "README.md"


def readme_app_source() -> str:
    blocks: list[str] = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    (source,) = [block for block in blocks if block.startswith("# main.py")]
    return source


def test_readme_quick_start_has_exactly_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("##", 1)[0]
    (block,) = re.findall(r"```shell\n(.*?)```", section, flags=re.DOTALL)
    assert block.split() == ["scripts/conformance", "scripts/test"]


def test_readme_app_answers_hello_world_under_uvicorn(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(readme_app_source(), encoding="utf-8")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "main:app", "--fd", str(sock.fileno()), "--log-level", "warning"],
        cwd=tmp_path,
        pass_fds=[sock.fileno()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[0].decode()
                assert time.monotonic() < deadline, "uvicorn did not answer in time"
                time.sleep(0.05)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"hello": "world"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()
        sock.close()
