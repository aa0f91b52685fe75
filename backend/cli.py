"""`python -m backend`: run the backend, and the staff's tools (docs/customer-service.md)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

from backend import newsletter, outbox, rights, settings
from backend.consent import manifests, reports
from backend.storage import Database, DatabaseUnavailable

log = logging.getLogger("backend")
ROOT = Path(__file__).resolve().parent.parent


def _serve(args: argparse.Namespace, config: settings.Settings) -> int:
    import uvicorn

    from backend.app import create_app

    app = create_app(config)
    if args.dev:
        from backend import devserver

        devserver.die_with_parent()
        devserver.watch_parent()
        learner = Database(config.database_url, config.database_timeout_seconds)
        rebuilder = devserver.Rebuilder(
            ROOT,
            Path(args.content).resolve(),
            Path(args.output).resolve(),
            ROOT / args.settings,
            on_built=lambda output: manifests.learn_build(learner, output),
        )
        if not rebuilder.build():
            log.error("The first build failed; fix it and save, the server is running.")
        app = devserver.dev_app(app, rebuilder)
        mail = config.smtp_url.split("@")[-1] if config.smtp_url else f"{config.mail_dir}/"
        log.info("Serving http://%s:%d (mail goes to %s)", args.host, args.port, mail)
    elif args.static:
        from starlette.routing import Mount
        from starlette.staticfiles import StaticFiles

        app.router.routes.append(Mount("/", app=StaticFiles(directory=args.static, html=True)))
        # The preview's banner version, so its pages' receipts are taken.
        manifests.learn_build(Database(config.database_url), Path(args.static))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,  # an access log would hold visitors' addresses
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


def _migrate(args: argparse.Namespace, config: settings.Settings) -> int:
    db = Database(config.database_url)
    applied = db.migrate()
    print(f"Applied {', '.join(applied)}" if applied else "The schema is up to date.")
    return 0


def _mail(args: argparse.Namespace, config: settings.Settings) -> int:
    db = Database(config.database_url)
    db.migrate()
    if args.action == "retry":
        print(f"{outbox.retry_now(db)} unsent mails are due now.")
    if args.action in ("send", "retry"):
        transport = outbox.transport_for(config.smtp_url, config.mail_dir, config.mail_from)
        result = outbox.send_due(db, transport, limit=10_000, first_retry=config.mail_retry_seconds)
        print(f"Sent {result.sent} mails, {result.failed} failed (they are retried later).")
        return 1 if result.failed else 0
    with db.transaction() as tx:
        rows = tx.query(
            "SELECT id, created_at, kind, recipient, attempts, sent_at, last_error FROM outbox"
            " WHERE sent_at IS NULL ORDER BY created_at"
        )
    print(json.dumps(rows, indent=2) if args.json else f"{len(rows)} mails wait to be sent.")
    if not args.json:
        for row in rows:
            print(
                f"  {row['created_at']}  {row['kind']:16} tries {row['attempts']}"
                f"  {row['last_error'] or ''}"
            )
    return 0


def _requests(args: argparse.Namespace, config: settings.Settings) -> int:
    db = Database(config.database_url)
    db.migrate()
    with db.transaction() as tx:
        rows = tx.query(
            "SELECT id, received_at, kind, lang, page, name, phone, email, country, message"
            " FROM contact_requests WHERE received_at >= ? ORDER BY received_at",
            (args.since,),
        )
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for row in rows:
        print(
            f"{row['received_at'][:16]}  {row['kind']:9}  {row['lang']}  {row['name']}"
            f" <{row['email']}>  {row['phone']}  {row['country']}  [{row['id']}]"
        )
        if row["message"]:
            print("    " + row["message"].replace("\n", "\n    "))
    print(f"{len(rows)} requests since {args.since}.")
    return 0


def _subject(args: argparse.Namespace, config: settings.Settings) -> int:
    db = Database(config.database_url)
    db.migrate()
    if args.action == "export":
        print(json.dumps(rights.export(db, args.email), indent=2, ensure_ascii=False))
        return 0
    removed = rights.erase(db, args.email)
    print(
        f"Erased {removed.requests} requests, {removed.subscriptions} newsletter "
        f"subscriptions and {removed.mails} mails ({removed.unsent} not sent yet) about that "
        "address."
    )
    return 0


def _newsletter(args: argparse.Namespace, config: settings.Settings) -> int:
    import csv
    import io

    db = Database(config.database_url)
    db.migrate()
    with db.transaction() as tx:
        subscribers = newsletter.confirmed(tx, config)
    if args.format == "json":
        text = json.dumps(subscribers, indent=2, ensure_ascii=False) + "\n"
    else:
        out = io.StringIO()
        columns = [
            "email",
            "name",
            "lang",
            "asked_at",
            "asked_text",
            "confirmed_at",
            "unsubscribe_url",
        ]
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(subscribers)
        text = out.getvalue()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Wrote {len(subscribers)} confirmed subscribers to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def _consent(args: argparse.Namespace, config: settings.Settings) -> int:
    db = Database(config.database_url)
    db.migrate()
    try:
        if args.action == "learn":
            manifest = manifests.read(Path(args.path))
            evidence = args.evidence and manifests.read_evidence(Path(args.evidence), manifest)
            new = manifests.learn(db, manifest, evidence or None)
            shots = f" with {len(evidence.shots)} screenshots" if evidence else ""
            known = "Learnt" if new else "Already knew"
            print(f"{known} banner version {manifest.banner_version}{shots}.")
            return 0
        return reports.run(args, db)
    except manifests.ManifestError as error:
        print(f"backend: {error}", file=sys.stderr)
        return 2
    except reports.NotFound as error:
        print(f"backend: {error}", file=sys.stderr)
        return 1


def _prune(args: argparse.Namespace, config: settings.Settings) -> int:
    db = Database(config.database_url)
    db.migrate()
    for kind, count in rights.prune(db, config.retention).items():
        print(f"{kind}: {count} deleted")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the backend (and with --dev, the site)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--dev", action="store_true", help="make serve: build, watch, serve")
    serve.add_argument("--content", default="content", help="--dev: the content folder")
    serve.add_argument("--output", default="output", help="--dev: where the site is built")
    serve.add_argument("--settings", default="pelicanconf.py", help="--dev: Pelican settings")
    serve.add_argument("--static", help="also serve this built site (a preview, no rebuilds)")
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxies whose X-Forwarded-For is trusted (the client's address for rate limits)",
    )
    serve.set_defaults(run=_serve)

    commands.add_parser("migrate", help="create or update the schema").set_defaults(run=_migrate)

    mail = commands.add_parser("mail", help="the outbox: status, send, retry")
    mail.add_argument("action", choices=("status", "send", "retry"), nargs="?", default="status")
    mail.add_argument("--json", action="store_true")
    mail.set_defaults(run=_mail)

    requests = commands.add_parser("requests", help="callback and quotation requests")
    requests.add_argument("--since", default="0000", help="YYYY-MM-DD")
    requests.add_argument("--json", action="store_true")
    requests.set_defaults(run=_requests)

    subject = commands.add_parser("subject", help="a data subject's rights requests")
    subject.add_argument("action", choices=("export", "erase"))
    subject.add_argument("email")
    subject.set_defaults(run=_subject)

    letters = commands.add_parser("newsletter", help="the confirmed subscribers, for a platform")
    letters.add_argument("action", choices=("export",))
    letters.add_argument("--format", choices=("csv", "json"), default="csv")
    letters.add_argument("--output", help="a file (default: standard output)")
    letters.set_defaults(run=_newsletter)

    consent = commands.add_parser("consent", help="consent receipts: learn, proof, export, stats")
    actions = consent.add_subparsers(dest="action", required=True)
    learn = actions.add_parser("learn", help="learn a banner manifest (and its screenshots)")
    learn.add_argument("path", help="the build's consent/banner.json")
    learn.add_argument("--evidence", help="make audit's evidence/<banner_version>/ folder")
    proof = actions.add_parser("proof", help="one consent ID's receipts, as HTML and JSON")
    proof.add_argument("consent_id")
    proof.add_argument("--out", default=".", help="the folder to write to")
    export = actions.add_parser("export", help="the receipts since a day, as CSV and JSON")
    export.add_argument("--since", required=True, type=reports.day, help="YYYY-MM-DD")
    export.add_argument("--out", default=".", help="the folder to write to")
    stats = actions.add_parser("stats", help="choices per day and language, counts only")
    stats.add_argument("--out", default="consent-stats.html", help="the HTML page to write")
    consent.set_defaults(run=_consent)

    commands.add_parser("prune", help="delete what outlived its retention").set_defaults(run=_prune)

    # Listed for --help only: main() hands `audit`'s arguments to backend/audit.py unread.
    commands.add_parser(
        "audit",
        help="make audit: python -m cookie_audit's arguments, with a throwaway backend "
        "answering the site's /api/",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["audit"]:  # the rest are the cookie audit's arguments, read by it
        from backend import audit

        return audit.main(argv[1:])
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        # Only what signs tokens or writes links needs the real secret and the site's URL.
        signs = args.command in ("serve", "newsletter") and not getattr(args, "dev", False)
        config = settings.load(dev=not signs)
        if getattr(args, "dev", False) and not config.site_url:
            config = dataclasses.replace(config, site_url=f"http://{args.host}:{args.port}")
        if signs and not config.site_url:
            raise settings.SettingsError(
                "BACKEND_SITE_URL is not set: links in mails need the site's address; set it "
                "(or BACKEND_SITE_ORIGIN) to e.g. https://www.cloud7.example"
            )
        return args.run(args, config)
    except settings.SettingsError as error:
        print(f"backend: {error}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as error:
        print(
            f"backend: the database is unavailable ({error}); check BACKEND_DATABASE_URL "
            "and that the server is running",
            file=sys.stderr,
        )
        return 3
    except KeyboardInterrupt:
        return 130
