"""`warm-transfer`: up (the whole embedded stack), worker, api (scale-out parts), migrate and demo."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError

from config import DATA_DIR, Settings
from domain.triggers import PolicyError, load_policy
from store.schema import SchemaError, migrate
from workers import demo, event_loop, logs, stack
from workers.codec import KeyRingError
from workers.devserver import StackError
from workers.secrets import MissingSecret
from workers.services import DatabaseUnavailable, hide_password, open_database, ready
from workers.temporal import ClusterSettingsError
from workers.tracing import TracingSettingsError


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warm-transfer", description=__doc__,
        epilog="Configuration: WT_* environment variables, listed in docs/configuration.md.")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="Temporal dev server, worker, API and demo team in one process tree")
    up.add_argument("--temporal-port", type=int, default=7233, help="Temporal gRPC port (default 7233)")
    up.add_argument("--ui-port", type=int, default=8233, help="Temporal UI port (default 8233)")
    up.add_argument("--api-port", type=int, default=None,
                    help=f"HTTP API port (default WT_API_PORT, now {settings.api_port})")
    up.add_argument("--data-dir", type=Path, default=DATA_DIR,
                    help="Temporal's SQLite file, its log and (unless WT_DATABASE_URL) the app database")

    commands.add_parser("worker", help="only the Temporal worker and the outbox dispatchers (WT_TEMPORAL_ADDRESS)")
    commands.add_parser("api", help="only the HTTP API on WT_API_HOST:WT_API_PORT (WT_TEMPORAL_ADDRESS)")
    commands.add_parser("migrate", help="bring the app database (WT_DATABASE_URL) to the newest schema, then exit; "
                                        "`up`, `api` and `worker` do it too as they start")

    play = commands.add_parser("demo", help="play three transfers over the HTTP API of a running `up`")
    play.add_argument("--api", default=f"http://127.0.0.1:{settings.api_port}", help="the API's base URL")
    play.add_argument("--bot-key", default=demo.BOT_KEY, help="a bot key (default: the demo's)")
    play.add_argument("--admin-key", default=demo.ADMIN_KEY,
                      help="an admin key, to set the demo reps' presence and hours (default: the demo's)")
    return parser


_SECRET_WORDS = ("key", "secret", "password", "token")


def _settings_error(err: ValidationError) -> str:
    """One line per bad WT_* variable, named as it is set; a secret's value is never echoed."""
    lines = []
    for error in err.errors():
        if not error["loc"]:  # a rule across settings: its input is every setting given, secrets too
            lines.append(error["msg"].removeprefix("Value error, "))
            continue
        name = "_".join(map(str, error["loc"]))
        shown = "<hidden>" if any(word in name for word in _SECRET_WORDS) else repr(_without_password(error["input"]))
        lines.append(f"WT_{name.upper()}={shown}: {error['msg'].removeprefix('Value error, ')}")
    return "warm-transfer: bad configuration\n" + "\n".join(f"  {line}" for line in lines)


def _without_password(value: object) -> object:
    """A URL's password as `***` (WT_DATABASE_URL holds one); anything else as it is."""
    if not isinstance(value, str) or "@" not in value:
        return value
    try:
        return hide_password(value)
    except ArgumentError:
        return value.split("://", 1)[0] + "://***" if "://" in value else "***"


def _serve(args: argparse.Namespace, settings: Settings) -> Coroutine[Any, Any, None]:
    """What `up`, `api` or `worker` runs until it is stopped."""
    if args.command == "up":
        return stack.up(settings, stack.UpOptions(args.temporal_port, args.ui_port, args.api_port, args.data_dir),
                        args.log_level)
    if args.command == "api":
        return stack.api_only(settings, args.log_level)
    return stack.worker_only(settings)


def migrated(settings: Settings) -> str:
    """`migrate`: the app database brought to the newest schema; its revision."""
    db = open_database(settings)
    try:
        with ready(settings):
            return migrate(db)
    finally:
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    try:
        settings = Settings()
    except ValidationError as err:
        print(_settings_error(err), file=sys.stderr)
        return 2
    args = _parser(settings).parse_args(argv)
    logs.configure(args.log_level, settings.log_format)
    try:
        if args.command == "demo":
            demo.run_demo(args.api, args.bot_key, args.admin_key)
        elif args.command == "migrate":
            print(f"The app database is at revision {migrated(settings)}.")
        else:
            if settings.trigger_policy:  # checked before anything starts, not once Temporal answers
                load_policy(settings.trigger_policy)
            event_loop.run(_serve(args, settings), settings.event_loop)
    except (MissingSecret, KeyRingError, ClusterSettingsError, TracingSettingsError) as err:
        print(f"warm-transfer {args.command}: bad configuration: {err}", file=sys.stderr)
        return 2
    except PolicyError as err:
        print(f"warm-transfer {args.command}: bad configuration: WT_TRIGGER_POLICY: {err}", file=sys.stderr)
        return 2
    except (StackError, demo.DemoError, TimeoutError, SchemaError, DatabaseUnavailable) as err:
        print(f"warm-transfer {args.command}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # only before the event loop took over the signals, or in the demo
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
