"""Command line: ``openpit-shm <command> [options]`` (also ``python -m openpit_shm``).

Commands are registered in ``COMMANDS``: each is a (help text, add-arguments,
run) triple, so other modules can add commands next to ``sweep`` without
touching the dispatcher.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["COMMANDS", "Command", "main"]

#: name -> (help, add_arguments(parser), run(args) -> exit code)
Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]


def _sweep_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    p.add_argument("--dir", type=Path, default=Path("/dev/shm"), help="shared-memory directory")
    p.add_argument("-v", "--verbose", action="store_true", help="also list live and skipped")


def _sweep_run(args: argparse.Namespace) -> int:
    from openpit_shm.shm.sweep import sweep

    report = sweep(dry_run=args.dry_run, shm_dir=args.dir)
    verb = "would remove" if args.dry_run else "removed"
    for name in report.removed:
        print(f"{verb} {name}")
    if args.verbose:
        for name in report.alive:
            print(f"alive   {name}")
        for name, why in report.skipped:
            print(f"skipped {name}: {why}")
    print(
        f"{len(report.removed)} {verb}, {len(report.alive)} alive, {len(report.skipped)} skipped",
        file=sys.stderr,
    )
    return 0


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=float, default=8.0, help="how long to stream orders")
    p.add_argument("--accounts", type=int, default=4000, help="market-making accounts")
    p.add_argument("--workers", type=int, default=2, help="shard worker processes")
    p.add_argument(
        "--out", type=Path, default=None, help="directory for the report (default: current)"
    )


def _demo_run(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(args.seconds, args.accounts, args.workers, out_dir=args.out)
    return 0


def _no_args(p: argparse.ArgumentParser) -> None:
    """A command without options."""


def _warmup_run(args: argparse.Namespace) -> int:
    from .warmup import warmup

    warmup()
    return 0


def _stat_args(p: argparse.ArgumentParser) -> None:
    from .stat import add_stat_arguments

    add_stat_arguments(p)


def _stat_run(args: argparse.Namespace) -> int:
    from .stat import run_stat

    return run_stat(args)


def _list_args(p: argparse.ArgumentParser) -> None:
    from .stat import add_list_arguments

    add_list_arguments(p)


def _list_run(args: argparse.Namespace) -> int:
    from .stat import run_list

    return run_list(args)


COMMANDS: dict[str, Command] = {
    "stat": (
        "per-shard figures of a live sharded engine, read-only (--watch, --json)",
        _stat_args,
        _stat_run,
    ),
    "list": (
        "the sharded engines alive on this host: pid, shards, age, client slots",
        _list_args,
        _list_run,
    ),
    "sweep": (
        "remove /dev/shm/opshm.* segments whose creator process is dead",
        _sweep_args,
        _sweep_run,
    ),
    "demo": (
        "stream a market-making flow through a sharded engine (the main job)",
        _demo_args,
        _demo_run,
    ),
    "warmup": (
        "compile every kernel an in-process or sharded engine needs, for this CPU, into the cache",
        _no_args,
        _warmup_run,
    ),
}


def _prog() -> str:
    """How this program was invoked: ``python -m openpit_shm`` or the script's own name."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not name or name == "__main__.py":
        return "python -m openpit_shm"
    return name


def main(argv: list[str] | None = None) -> int:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=_prog(), description="openpit_shm: a pre-trade risk engine over shared memory"
    )
    parser.add_argument("--version", action="version", version=f"openpit_shm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    for name, (help_text, add_args, _) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return COMMANDS[args.command][2](args)


if __name__ == "__main__":
    sys.exit(main())
