"""The `council` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("PICCOLO_CONF", "council.piccolo_conf")


async def migrate(quiet: bool = False) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from council.db import prepare_sqlite_file, sqlite_path
    from council.settings import database_url_from_env

    url = database_url_from_env()
    if url.startswith("sqlite"):
        prepare_sqlite_file(sqlite_path(url))
    if quiet:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            result = await run_forwards("all")
    else:
        result = await run_forwards("all")
    if not result.success:
        raise SystemExit(f"migration failed: {result.message}")


def cmd_serve(args: argparse.Namespace) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    if not args.no_migrate:
        asyncio.run(migrate(quiet=True))
    print(f"council serving on http://{args.host}:{args.port} ({args.workers} worker(s))", flush=True)
    if args.workers > 1 and not os.environ.get("COUNCIL_REDIS_URL"):
        print(
            "warning: several workers without COUNCIL_REDIS_URL: a hearing's live updates reach only the "
            "clients of the worker that made the change (set COUNCIL_REDIS_URL to share them)",
            file=sys.stderr,
            flush=True,
        )
    Granian(
        "council.asgi:app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        log_access=False,
    ).serve()
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    asyncio.run(migrate())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from council.demo import load_demo

    async def run() -> list[tuple[str, str, str]]:
        await migrate(quiet=True)
        return await load_demo(only_if_empty=args.if_empty)

    logins = asyncio.run(run())
    if not logins:
        print("The database has data already; demo not loaded.")
        return 0
    print("Demo community loaded. Logins (username / password / roles):")
    for username, password, roles in logins:
        print(f"  {username:<12} {password:<14} {roles}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from council.accounts.principal import Grant, Principal
    from council.accounts.tables import Role
    from council.community import roster_csv, service
    from council.i18n import gettext

    data = Path(args.file).read_bytes()

    async def run() -> int:
        await migrate(quiet=True)
        roots = await service.roots()
        community = next((r for r in roots if args.community in (str(r["id"]), r["name"])), None)
        if community is None:
            print(
                f"No community {args.community!r}. Known: "
                + ", ".join(f"{r['id']} {r['name']}" for r in roots),
                file=sys.stderr,
            )
            return 2
        # The command line is the operator: acting as admin of that community, named in the log.
        operator = Principal(
            id=0,
            username=f"cli:{getpass.getuser()}",
            display_name="command line",
            locale="",
            resident_id=None,
            grants=(Grant(Role.admin, community["id"], community["path"], community["name"]),),
        )
        result = await roster_csv.import_residents(operator, community["id"], data, args.file)
        if not result.ok:
            print(f"Nothing imported: {len(result.problems)} problem(s) in {args.file}", file=sys.stderr)
            for p in result.problems:
                field = f" [{p.field}]" if p.field else ""
                print(f"  row {p.row}{field}: {gettext(p.message).format(**p.params)}", file=sys.stderr)
            return 1
        print(f"Imported {result.imported} residents ({result.households_created} new households).")
        return 0

    return asyncio.run(run())


def cmd_createuser(args: argparse.Namespace) -> int:
    from council.accounts import service as accounts
    from council.accounts.tables import Role
    from council.audit.service import Actor
    from council.community import service as roster
    from council.errors import DomainError
    from council.settings import Settings

    settings = Settings.from_env()
    password = args.password or os.environ.get("COUNCIL_NEW_PASSWORD") or getpass.getpass("Password: ")

    async def run() -> int:
        await migrate(quiet=True)
        node_id = args.scope
        if args.role and node_id is None:
            roots = await roster.roots()
            if not roots:
                print("No community yet: run `council demo` or add one first.", file=sys.stderr)
                return 2
            node_id = roots[0]["id"]
        try:
            user = await accounts.create_user_with_password(
                settings,
                Actor(None, f"cli:{getpass.getuser()}"),
                username=args.username,
                display_name=args.name or args.username,
                password=password,
                email=args.email or "",
                grants=[(Role(role), node_id) for role in args.role or []],
            )
        except DomainError as exc:
            print(exc.detail(), file=sys.stderr)
            return 2
        print(f"Created user {args.username} (id {user.id}).")
        return 0

    return asyncio.run(run())


def cmd_audit_verify(_: argparse.Namespace) -> int:
    from council.audit.service import verify_chain

    async def run() -> int:
        report = await verify_chain()
        if report.ok:
            print(f"audit chain OK: {report.entries} entries, head {report.head}")
            return 0
        print(f"audit chain BROKEN at entry {report.first_bad_seq}: {report.problem}", file=sys.stderr)
        return 1

    return asyncio.run(run())


def cmd_outbox_send(args: argparse.Namespace) -> int:
    from council.notifications.outbox import deliver_due
    from council.settings import Settings

    settings = Settings.from_env()
    if not settings.email_enabled:
        print("Email is off: set COUNCIL_SMTP_HOST to send the outbox.", file=sys.stderr)
        return 2

    async def run() -> tuple[int, int]:
        await migrate(quiet=True)
        return await deliver_due(settings, limit=args.limit)

    sent, failed = asyncio.run(run())
    print(f"outbox: {sent} sent, {failed} failed")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    from council.accounts.tables import Role

    parser = argparse.ArgumentParser(prog="council", description="Resident council service.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the web application (migrates first)")
    serve.add_argument("--host", default=os.environ.get("COUNCIL_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("COUNCIL_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("COUNCIL_WORKERS", "1")))
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    for name, (_, text) in _PURE.items():
        sub.add_parser(name, help=text, add_help=False)

    demo = sub.add_parser("demo", help="load the demo community")
    demo.add_argument("--if-empty", action="store_true", help="only when the database has no community")
    demo.set_defaults(func=cmd_demo)

    imp = sub.add_parser("import-residents", help="import residents from CSV (all or nothing)")
    imp.add_argument("file")
    imp.add_argument("--community", required=True, help="community id or name")
    imp.set_defaults(func=cmd_import)

    create = sub.add_parser("createuser", help="create a user with a password")
    create.add_argument("username")
    create.add_argument("--name", help="display name")
    create.add_argument("--email")
    create.add_argument("--password", help="else COUNCIL_NEW_PASSWORD, else asked")
    create.add_argument(
        "--role", action="append", choices=[r.value for r in Role], help="role to give (repeatable)"
    )
    create.add_argument(
        "--scope", type=int, help="place id of the roles' scope (default: the first community)"
    )
    create.set_defaults(func=cmd_createuser)

    audit = sub.add_parser("audit", help="audit log tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_sub.add_parser("verify", help="recompute the hash chain; name the first broken entry").set_defaults(
        func=cmd_audit_verify
    )

    outbox = sub.add_parser("outbox", help="email outbox tools")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    send = outbox_sub.add_parser("send", help="one delivery pass: send the emails that are due")
    send.add_argument("--limit", type=int, default=50, help="at most this many emails (default 50)")
    send.set_defaults(func=cmd_outbox_send)
    return parser


# These keep their own argument parsers (the verifier is meant to be usable on its own:
# `python -m council.ballots.verify`) and import database code only when they need it.
_PURE = {
    "verify": ("council.ballots.verify", "check an election record, or one audited ballot (--audited)"),
    "trustee": ("council.ballots.trustee_cli", "a trustee's election key and decryption: keygen, decrypt"),
    "ballots": (
        "council.ballots.__main__",
        "simulate an election on a scratch database (simulate --out RECORD.zip), export a ballot's record",
    ),
}


def main(argv: Sequence[str] | None = None) -> Any:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in _PURE:
        import importlib

        module = importlib.import_module(_PURE[arguments[0]][0])
        rest = arguments[1:]
        return module.main(rest)
    args = build_parser().parse_args(arguments)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
