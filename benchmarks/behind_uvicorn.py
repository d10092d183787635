"""Throughput behind uvicorn: Starlette against the raw ASGI app, per scenario, over loopback.

Starts one uvicorn process per application (raw, Starlette, Starlette with middleware) on
127.0.0.1 at free ports, then, for each scenario, loads the raw server and the Starlette server
in turn from a second process: `wrk` when it is installed (`--client wrk`), otherwise the
small keep-alive client in `benchmarks/loadgen.py` (`--client python`; HEAD always uses it,
as wrk waits for the body a HEAD response announces). Each load is bounded
by `--duration` seconds (and, for the Python client, `--max-requests`). Before measuring, each
scenario's response is checked against what it must be. The servers are always stopped.

Run from the repository root (uvicorn imports `benchmarks.apps` from the current directory):

    .venv/bin/python -m benchmarks.behind_uvicorn [--client auto|wrk|python] [--duration S]
        [--rounds R] [--connections C] [--http auto|h11|httptools] [--scenario NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from benchmarks.apps import SCENARIOS, Scenario


@dataclass
class Server:
    """A running uvicorn process."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_listening(server: Server, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@contextmanager
def uvicorn_server(app: str, http: str, log_dir: str) -> Iterator[Server]:
    """uvicorn serving `benchmarks.apps:<app>` on a free loopback port, stopped on exit."""
    for _attempt in range(3):  # a free port can be taken between the probe and uvicorn's bind
        port = free_port()
        log_path = os.path.join(log_dir, f"{app}-{port}.log")
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            f"benchmarks.apps:{app}",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--http",
            http,
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        server = Server(process, port, log_path)
        try:
            if wait_until_listening(server, timeout=20):
                yield server
                return
        finally:
            stop(server)
    with open(log_path) as log:
        raise RuntimeError(f"uvicorn did not start for {app}:\n{log.read()}")


def target_of(scenario: Scenario) -> str:
    if scenario.query_string:
        return f"{scenario.path}?{scenario.query_string.decode()}"
    return scenario.path


def loadgen_command(scenario: Scenario, port: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.loadgen",
        "--port",
        str(port),
        "--method",
        scenario.method,
        "--path",
        target_of(scenario),
        "--body",
        scenario.body.decode(),
        "--status",
        str(scenario.status),
        *extra,
    ]


def check(scenario: Scenario, port: int, label: str) -> None:
    output = subprocess.run(loadgen_command(scenario, port, "--check"), capture_output=True, check=True, timeout=30)
    result = json.loads(output.stdout)
    assert result["status"] == scenario.status, (label, scenario.name, result)
    if scenario.expected_body is not None:
        assert result["body"].encode("latin-1") == scenario.expected_body, (label, scenario.name, result)


def load_with_python(scenario: Scenario, port: int, args: argparse.Namespace, duration: float) -> float:
    extra = ["--connections", str(args.connections), "--duration", str(duration)]
    extra += ["--max-requests", str(args.max_requests)]
    output = subprocess.run(loadgen_command(scenario, port, *extra), capture_output=True, check=True, timeout=600)
    result = json.loads(output.stdout)
    assert result["unexpected"] == 0, (scenario.name, result)
    rps: float = result["rps"]
    return rps


_WRK_SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{content_type}
"""


def load_with_wrk(scenario: Scenario, port: int, args: argparse.Namespace, duration: float, work_dir: str) -> float:
    script = os.path.join(work_dir, f"{scenario.name}.lua")
    content_type = 'wrk.headers["Content-Type"] = "application/json"' if scenario.body else ""
    with open(script, "w") as file:
        file.write(
            _WRK_SCRIPT.format(
                method=json.dumps(scenario.method), body=json.dumps(scenario.body.decode()), content_type=content_type
            )
        )
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{max(1, round(duration))}s", "-s", script]
    command.append(f"http://127.0.0.1:{port}{target_of(scenario)}")
    output = subprocess.run(command, capture_output=True, check=True, text=True, timeout=600).stdout
    match = re.search(r"Requests/sec:\s*([0-9.]+)", output)
    assert match is not None, output
    errors = re.search(r"Socket errors: (.*)", output)
    assert errors is None, (scenario.name, output)
    if scenario.status < 400:
        assert "Non-2xx or 3xx responses" not in output, (scenario.name, output)
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per scenario and server")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per server and scenario; the best counts")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="upper bound, Python client only")
    parser.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto")
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS], help="repeatable")
    args = parser.parse_args()

    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    scenarios = [s for s in SCENARIOS if args.scenario is None or s.name in args.scenario]

    with tempfile.TemporaryDirectory(prefix="bench-") as work_dir, ExitStack() as servers:
        raw = servers.enter_context(uvicorn_server("raw_app", args.http, work_dir))
        framework = servers.enter_context(uvicorn_server("starlette_app", args.http, work_dir))
        with_middleware = servers.enter_context(uvicorn_server("starlette_middleware_app", args.http, work_dir))

        def load(scenario: Scenario, port: int, duration: float) -> float:
            # wrk would wait for the body a HEAD response announces but does not carry.
            if client == "wrk" and scenario.method != "HEAD":
                return load_with_wrk(scenario, port, args, duration, work_dir)
            return load_with_python(scenario, port, args, duration)

        print(f"client: {client}, {args.connections} connections, best of {args.rounds} x {args.duration:g}s")
        print(f"{'scenario':12} {'raw ASGI req/s':>15} {'starlette req/s':>16} {'ratio':>6}")
        for scenario in scenarios:
            starlette_server = with_middleware if scenario.middleware else framework
            pairs = (("raw", raw), ("starlette", starlette_server))
            for label, server in pairs:
                check(scenario, server.port, label)
                if args.warmup > 0:
                    load(scenario, server.port, args.warmup)
            # Interleaved rounds, best of each: the machine's other load only ever slows a round down.
            raw_rps = framework_rps = 0.0
            for _ in range(args.rounds):
                raw_rps = max(raw_rps, load(scenario, raw.port, args.duration))
                framework_rps = max(framework_rps, load(scenario, starlette_server.port, args.duration))
            ratio = framework_rps / raw_rps
            print(f"{scenario.name:12} {raw_rps:15.0f} {framework_rps:16.0f} {ratio:6.2f}", flush=True)


if __name__ == "__main__":
    main()
