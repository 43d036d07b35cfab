"""`gim-etl generate`: synthetic traffic for tests, the sample and the benchmark (etl.simulate)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The `generate` subcommand's arguments."""
    gen = sub.add_parser("generate", help="simulate a contact centre and write contract event files")
    gen.add_argument("--out", required=True, type=Path, help="output directory")
    gen.add_argument("--start-date", default="2026-03-02")
    gen.add_argument("--days", type=int, default=1)
    gen.add_argument("--interactions-per-day", type=int, default=300)
    gen.add_argument("--agents", type=int, default=40)
    gen.add_argument("--queues", type=int, default=4, help="interaction queues (and routing strategies)")
    gen.add_argument("--vqs", type=int, default=5, help="virtual queues")
    gen.add_argument("--files", type=int, default=4, help="files to split the events over")
    gen.add_argument(
        "--format",
        dest="fmt",
        choices=["ndjson", "ndjson.gz", "parquet", "genesys-cloud", "genesys-cloud.gz"],
        default="ndjson",
        help="contract events, or Genesys Cloud conversation-detail job pages (--interactions-per-day conversations)",
    )
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--duplicate-rate", type=float, default=0.002, help="share of events delivered twice")
    gen.add_argument(
        "--cfg-out",
        type=Path,
        metavar="DIR",
        help="also write a configuration log (config.md) of the agents to DIR; routing invitations get targets",
    )
    gen.add_argument(
        "--agent-states", action="store_true", help="also simulate the agents' days (login, states, reasons, ACW, DND)"
    )
    gen.add_argument(
        "--mix",
        action="append",
        default=[],
        metavar="FLOW=WEIGHT",
        help="relative weight of a documented flow (repeatable; 0 disables; unnamed flows keep their default weight)",
    )


def generate(args: argparse.Namespace, console: Console) -> int:
    """`gim-etl generate`: synthetic contract events (etl.simulate.generator) or Genesys Cloud records."""
    from etl.simulate.generator import DEFAULT_MIX, GeneratorConfig, write_files

    if args.fmt.startswith("genesys-cloud"):
        return _generate_gc(args, console)

    mix = dict(DEFAULT_MIX)
    try:
        for item in args.mix:
            name, _, weight = item.partition("=")
            if name not in DEFAULT_MIX:
                raise ValueError(f"unknown flow {name!r} (one of: {', '.join(DEFAULT_MIX)})")
            mix[name] = float(weight)
        cfg = GeneratorConfig(
            start_date=args.start_date,
            days=args.days,
            interactions_per_day=args.interactions_per_day,
            agents=args.agents,
            queues=args.queues,
            vqs=args.vqs,
            seed=args.seed,
            files=args.files,
            fmt=args.fmt,
            duplicate_rate=args.duplicate_rate,
            mix=mix,
            routing_targets=args.cfg_out is not None,
            agent_states=args.agent_states,
        )
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    paths = write_files(cfg, args.out)
    console.print(f"wrote {len(paths)} file(s) to {args.out}")
    if args.cfg_out is not None:
        from etl.simulate import config_log
        from etl.simulate.generator import configuration

        console.print(f"wrote {config_log.write(configuration(cfg), args.cfg_out)}")
    return 0


def _generate_gc(args: argparse.Namespace, console: Console) -> int:
    """`generate --format genesys-cloud`: synthetic conversation-detail records (etl.simulate.genesys_cloud)."""
    from etl.simulate.genesys_cloud import GcConfig, write_conversations

    cfg = GcConfig(
        start_date=args.start_date,
        days=args.days,
        conversations_per_day=args.interactions_per_day,
        agents=args.agents,
        queues=args.queues,
        files=args.files,
        seed=args.seed,
        gzip=args.fmt.endswith(".gz"),
    )
    paths = write_conversations(cfg, args.out)
    console.print(f"wrote {len(paths)} Genesys Cloud file(s) to {args.out} (load with --source genesys-cloud)")
    return 0
