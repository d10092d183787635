"""A small HTTP/1.1 keep-alive load generator, for when `wrk` is not installed.

Opens `--connections` connections to a loopback server and sends the same request over each,
one at a time per connection, until `--duration` seconds have passed or `--max-requests`
responses have arrived, whichever comes first. Prints one JSON object: requests, seconds,
requests per second, and how many responses had an unexpected status.

    .venv/bin/python -m benchmarks.loadgen --port 8000 --path /users/42 --status 200

`--check` instead sends one request and prints its status and (de-chunked) body, which the
benchmark compares with what the scenario expects.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time


def build_request(method: str, target: str, body: bytes) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "User-Agent: bench/1.0", "Accept: */*"]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def read_response(reader: asyncio.StreamReader, head_request: bool) -> tuple[int, bytes]:
    """One response: its status and its body (de-chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length = -1
    chunked = False
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if head_request or status in (204, 304) or 100 <= status < 200:
        return status, b""
    if chunked:
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers: the final CRLF
                return status, b"".join(parts)
            parts.append((await reader.readexactly(size + 2))[:-2])
    if length < 0:
        raise RuntimeError("response without Content-Length or chunked encoding on a keep-alive connection")
    return status, await reader.readexactly(length)


class Load:
    """Shared counters of a run."""

    def __init__(self, max_requests: int, deadline: float) -> None:
        self.remaining = max_requests
        self.deadline = deadline
        self.done = 0
        self.unexpected = 0


async def worker(port: int, request: bytes, head_request: bool, status: int, load: Load) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while load.remaining > 0 and time.perf_counter() < load.deadline:
            load.remaining -= 1
            writer.write(request)
            got, _ = await read_response(reader, head_request)
            load.done += 1
            if got != status:
                load.unexpected += 1
    finally:
        writer.close()
        await writer.wait_closed()


async def run_load(args: argparse.Namespace) -> dict[str, float]:
    request = build_request(args.method, args.path, args.body.encode())
    start = time.perf_counter()
    load = Load(args.max_requests, start + args.duration)
    workers = [worker(args.port, request, args.method == "HEAD", args.status, load) for _ in range(args.connections)]
    await asyncio.gather(*workers)
    seconds = time.perf_counter() - start
    return {"requests": load.done, "seconds": seconds, "rps": load.done / seconds, "unexpected": load.unexpected}


async def check(args: argparse.Namespace) -> dict[str, object]:
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    try:
        writer.write(build_request(args.method, args.path, args.body.encode()))
        status, body = await asyncio.wait_for(read_response(reader, args.method == "HEAD"), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()
    return {"status": status, "body": body.decode("latin-1")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", default="/", help="request target, query string included")
    parser.add_argument("--body", default="", help="request body (sent as application/json)")
    parser.add_argument("--status", type=int, default=200, help="the expected status")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds (upper bound)")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="requests (upper bound)")
    parser.add_argument("--check", action="store_true", help="one request; print status and body")
    args = parser.parse_args()
    result = asyncio.run(check(args) if args.check else run_load(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
