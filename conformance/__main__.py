"""`python -m conformance`: run the ASGI conformance scenarios on one or more targets.

    python -m conformance                         # every scenario on every built-in target
    python -m conformance --target uvicorn -k websocket
    python -m conformance --server-command 'granian --interface asgi --host {host} --port {port} {app}' \\
        --server-name granian --json report.json

The exit status is 1 iff a scenario failed (waived ones do not count), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from conformance import all_scenarios
from conformance._runner import Result, render_report, run_target, write_json, write_junit
from conformance._targets import CommandTarget, Target, builtin_targets

_MARK = {"passed": ".", "failed": "F", "waived": "w"}


def _parser(known: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Run the ASGI conformance scenarios against in-process and real ASGI servers.",
    )
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help=f"a target to run (repeatable; default: all of {', '.join(known)}, or only the --server-command one)",
    )
    parser.add_argument(
        "-k",
        dest="patterns",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only scenarios whose id contains it",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON")
    parser.add_argument("--junit", type=Path, metavar="PATH", help="write the results as JUnit XML")
    parser.add_argument(
        "--server-command",
        metavar="CMD",
        help="run your own server: a command line with {app}, {host} and {port} placeholders",
    )
    parser.add_argument("--server-name", default="custom", metavar="NAME", help="the name of that target in reports")
    parser.add_argument(
        "--server-root-path-args",
        default="",
        metavar="ARGS",
        help="the arguments that give your server an ASGI root_path, with a {root_path} placeholder "
        "(e.g. '--root-path {root_path}'); without them the root_path scenarios are waived for it",
    )
    parser.add_argument("--list", action="store_true", help="list the selected scenarios and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the conformance suite; returns the process exit status."""
    targets_by_name: dict[str, Target] = builtin_targets()
    parser = _parser(list(targets_by_name))
    args = parser.parse_args(argv)
    names: list[str] = list(dict.fromkeys(args.target))
    if args.server_command:
        if "{port}" not in args.server_command or "{app}" not in args.server_command:
            parser.error("--server-command needs the {app} and {port} placeholders")
        root_path_args = shlex.split(args.server_root_path_args)
        targets_by_name[args.server_name] = CommandTarget(args.server_name, args.server_command, root_path_args)
        names.append(args.server_name)
    unknown = [name for name in names if name not in targets_by_name]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r} (known: {', '.join(targets_by_name)})")
    names = list(dict.fromkeys(names)) or list(targets_by_name)
    scenarios = all_scenarios(args.patterns)
    if args.list:
        for scenario in scenarios:
            print(f"{scenario.id}  {scenario.description.splitlines()[0] if scenario.description else ''}".rstrip())
        return 0
    if not scenarios:
        print("No scenario matches.", file=sys.stderr)
        return 2

    results: list[Result] = []
    started = time.monotonic()
    for name in names:
        print(f"{name} ", end="", flush=True)
        target_started = time.monotonic()

        def progress(result: Result) -> None:
            print(_MARK[result.outcome], end="", flush=True)

        results += run_target(targets_by_name[name], scenarios, progress)
        print(f" {time.monotonic() - target_started:.1f} s", flush=True)
    print()
    print(render_report(results, names, scenarios))
    print(f"({time.monotonic() - started:.1f} s)")
    if args.json:
        write_json(args.json, names, results)
    if args.junit:
        write_junit(args.junit, names, results)
    return 1 if any(r.outcome == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
