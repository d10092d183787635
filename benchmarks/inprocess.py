"""In-process throughput: Starlette against a hand-written raw ASGI app, per scenario.

Requests go straight to each app's ASGI callable (no server, no sockets), with scopes and
`receive`/`send` shaped like uvicorn's, so what is measured is the framework's own per-request
cost: routing, Request/Response objects, middleware, header encoding. Each scenario runs
`--rounds` rounds of `--requests` requests per implementation, interleaved, and the best round
counts (the least disturbed by the rest of the machine).

    .venv/bin/python -m benchmarks.inprocess [--requests N] [--rounds R] [--backend asyncio|trio]
                                             [--scenario NAME ...] [--profile NAME]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable

import anyio

from benchmarks.apps import SCENARIOS, Scenario, raw_app, starlette_app, starlette_middleware_app
from starlette.types import ASGIApp, Message, Scope

_HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"bench/1.0"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"connection", b"keep-alive"),
]


def make_scope(scenario: Scenario) -> Scope:
    """A scope like uvicorn's (spec_version 2.3, a copy of the lifespan state)."""
    headers = list(_HEADERS)
    if scenario.body:
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(scenario.body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": scenario.method,
        "root_path": "",
        "path": scenario.path,
        "raw_path": scenario.path.encode(),
        "query_string": scenario.query_string,
        "headers": headers,
        "state": {},
    }


class Exchange:
    """One request's `receive` and `send`: the body first, then (once the response is complete)
    `http.disconnect`; before that, `receive` waits as a server's does."""

    __slots__ = ("body", "body_sent", "complete", "request_message", "status")

    def __init__(self, body: bytes) -> None:
        self.request_message: Message = {"type": "http.request", "body": body, "more_body": False}
        self.body_sent = False
        self.complete = False
        self.status = 0
        self.body: list[bytes] = []

    async def receive(self) -> Message:
        if not self.body_sent:
            self.body_sent = True
            return self.request_message
        if not self.complete:
            await anyio.sleep_forever()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            self.body.append(message.get("body", b""))
            if not message.get("more_body", False):
                self.complete = True


async def check(app: ASGIApp, scenario: Scenario, label: str) -> None:
    """Fail loudly when an implementation does not give the scenario's response."""
    exchange = Exchange(scenario.body)
    await app(make_scope(scenario), exchange.receive, exchange.send)
    body = b"".join(exchange.body)
    assert exchange.status == scenario.status, (label, scenario.name, exchange.status)
    assert scenario.expected_body is None or body == scenario.expected_body, (label, scenario.name, body)


async def measure(app: ASGIApp, scenario: Scenario, requests: int) -> float:
    """Requests per second over `requests` sequential requests."""
    body = scenario.body
    scope_for: Callable[[Scenario], Scope] = make_scope
    start = time.perf_counter()
    for _ in range(requests):
        exchange = Exchange(body)
        await app(scope_for(scenario), exchange.receive, exchange.send)
    return requests / (time.perf_counter() - start)


def app_for(scenario: Scenario) -> ASGIApp:
    return starlette_middleware_app if scenario.middleware else starlette_app


async def run(scenarios: list[Scenario], requests: int, rounds: int) -> None:
    print(f"{'scenario':12} {'raw ASGI req/s':>15} {'starlette req/s':>16} {'ratio':>6}")
    for scenario in scenarios:
        app = app_for(scenario)
        await check(raw_app, scenario, "raw")
        await check(app, scenario, "starlette")
        raw_best = framework_best = 0.0
        for _ in range(rounds):
            raw_best = max(raw_best, await measure(raw_app, scenario, requests))
            framework_best = max(framework_best, await measure(app, scenario, requests))
        ratio = framework_best / raw_best
        print(f"{scenario.name:12} {raw_best:15.0f} {framework_best:16.0f} {ratio:6.2f}")


async def profile(scenario: Scenario, requests: int) -> None:
    app = app_for(scenario)
    await check(app, scenario, "starlette")
    profiler = cProfile.Profile()
    profiler.enable()
    await measure(app, scenario, requests)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10000, help="requests per round (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per implementation (default 5)")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS], help="repeatable")
    parser.add_argument("--profile", choices=[s.name for s in SCENARIOS], help="cProfile one scenario instead")
    args = parser.parse_args()
    by_name = {scenario.name: scenario for scenario in SCENARIOS}
    if args.profile:
        anyio.run(profile, by_name[args.profile], args.requests, backend=args.backend)
        return
    chosen = [by_name[name] for name in args.scenario] if args.scenario else list(SCENARIOS)
    anyio.run(run, chosen, args.requests, args.rounds, backend=args.backend)


if __name__ == "__main__":
    main()
