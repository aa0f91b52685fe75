"""The staff's reports on consent receipts: a proof of one consent, an export, statistics.

A proof is for a data-protection authority or the visitor: one HTML page that needs
nothing else (its screenshots are `data:` URIs) and the same facts as JSON. Statistics
are counts only, for marketing: no consent ID leaves the database through them.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import html
import io
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from backend.consent import manifests
from backend.storage import Database, Transaction, now

CONSENT_ID = re.compile(r"[0-9a-f]{32}")
COLUMNS = [
    "consent_id",
    "seq",
    "action",
    "analytics",
    "embeds",
    "revision",
    "banner",
    "lang",
    "path",
    "gpc",
    "client_time",
    "received_at",
]
ACTIONS = ("accept", "reject", "withdraw", "save")
STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;"
    "color:#1b1b1b}table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #767676;"
    "padding:.25rem .5rem;text-align:left;vertical-align:top}caption{text-align:left;"
    "font-weight:bold}img{max-width:100%;border:1px solid #767676}figure{display:inline-block;"
    "margin:.5rem;max-width:20rem;vertical-align:top}.words{white-space:pre-line;"
    "background:#f3f3f3;padding:.5rem 1rem}.gap{color:#8a1c00;font-weight:bold}"
)


class NotFound(Exception):
    """Nothing to report for what was asked; the message says what to check."""


def day(text: str) -> str:
    """A day as YYYY-MM-DD, for `--since`."""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day; write it as 2026-12-01") from None


class _Text(HTMLParser):
    """The words of a piece of markup, one line per block."""

    BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "button", "tr", "label", "section", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "template"):
            self.hidden += 1
        if tag in self.BLOCKS or tag in ("td", "th"):
            self.parts.append("\n" if tag in self.BLOCKS else " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self.hidden -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def words(markup: str) -> str:
    """What a visitor reads in a banner's markup."""
    reader = _Text()
    reader.feed(markup)
    reader.close()
    lines = (" ".join(line.split()) for line in "".join(reader.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _receipts(tx: Transaction, where: str, params: tuple) -> list[dict[str, Any]]:
    return tx.query(
        f"SELECT {', '.join(COLUMNS)} FROM consent_receipts WHERE {where}"
        " ORDER BY received_at, consent_id, seq",
        params,
    )


# Proof


def proof(db: Database, consent_id: str) -> dict[str, Any]:
    """Every receipt of a consent ID with what its visitor saw, as JSON-ready data."""
    if not CONSENT_ID.fullmatch(consent_id):
        raise NotFound(f"{consent_id!r} is not a consent ID: it is 32 characters 0-9 and a-f")
    banners: dict[str, dict[str, Any]] = {}
    with db.transaction(durable=False) as tx:
        found = tx.query(
            f"SELECT {', '.join(COLUMNS)} FROM consent_receipts WHERE consent_id = ? ORDER BY seq",
            (consent_id,),
        )
        if not found:
            raise NotFound(
                f"no consent receipts with the ID {consent_id}; check the ID the visitor "
                "quoted (Cookie settings shows it) and that it is not older than the retention"
            )
        for version in sorted({r["banner"] for r in found}):
            learnt = tx.query(
                "SELECT manifest_sha256, learnt_at, evidence FROM consent_banners"
                " WHERE banner_version = ?",
                (version,),
            )[0]
            evidence = json.loads(learnt["evidence"]) if learnt["evidence"] else None
            banners[version] = {
                "manifest": manifests.stored(tx, version),
                "manifest_sha256": learnt["manifest_sha256"],
                "learnt_at": learnt["learnt_at"],
                "screenshots_taken_at": evidence["taken_at"] if evidence else None,
                "screenshots": manifests.screenshots(tx, version),
            }
    receipts = []
    for row in found:
        banner = banners[row["banner"]]
        manifest = banner["manifest"]
        receipts.append(
            {
                **row,
                "gpc": bool(row["gpc"]),
                "words": words(manifest.banner[row["lang"]]),
                "policy": manifest.policy,
                "banner_manifest_sha256": banner["manifest_sha256"],
                "screenshots": [
                    {"file": s["file"], "sha256": s["sha256"]}
                    for s in banner["screenshots"]
                    if s["file"].startswith(f"{row['lang']}-")
                ],
            }
        )
    seqs = [r["seq"] for r in found]
    return {
        "consent_id": consent_id,
        "written_at": now(),
        "missing_seq": sorted(set(range(1, max(seqs) + 1)) - set(seqs)),
        "receipts": receipts,
        "banners": {
            version: {
                "manifest_sha256": b["manifest_sha256"],
                "learnt_at": b["learnt_at"],
                "screenshots_taken_at": b["screenshots_taken_at"],
                "screenshots": {s["file"]: s["png_base64"] for s in b["screenshots"]},
            }
            for version, b in banners.items()
        },
    }


def proof_page(data: dict[str, Any]) -> str:
    """The proof as one HTML page that loads nothing: the screenshots are data: URIs."""
    e = html.escape
    out = [
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Proof of consent {e(data['consent_id'])} · Cloud 7</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>Proof of consent <code>{e(data['consent_id'])}</code></h1>\n"
        f"<p>Every choice recorded under this consent ID, in order, with the words and the "
        f"screenshots of the banner it was made in. Written {e(data['written_at'])} from the "
        "backend's records; times are UTC.</p>\n"
    ]
    if data["missing_seq"]:
        missing = ", ".join(str(n) for n in data["missing_seq"])
        out.append(
            f'<p class="gap">Choices never received by the backend: number {missing} '
            "(the visitor's browser did not deliver them).</p>\n"
        )
    for r in data["receipts"]:
        banner = data["banners"][r["banner"]]
        embeds = e(r["embeds"].replace("+", ", ")) or "none"
        analytics = {"1": "accepted", "0": "rejected", "-": "not chosen"}[r["analytics"]]
        policy = r["policy"]
        out.append(
            f'<section aria-labelledby="choice-{r["seq"]}">\n'
            f'<h2 id="choice-{r["seq"]}">Choice {r["seq"]}: {e(r["action"])}</h2>\n'
            "<table>\n<caption>What was recorded</caption>\n<tbody>\n"
            + "".join(
                f'<tr><th scope="row">{name}</th><td>{value}</td></tr>\n'
                for name, value in (
                    ("Received by the backend", e(r["received_at"])),
                    ("Time on the visitor's device", e(r["client_time"])),
                    ("Analytics cookies", analytics),
                    ("Embeds always allowed", embeds),
                    ("Global Privacy Control", "on" if r["gpc"] else "off"),
                    ("Page", f"<code>{e(r['path'])}</code>"),
                    ("Language", e(r["lang"])),
                    ("Consent revision", e(r["revision"])),
                    (
                        "Banner version",
                        f"<code>{e(r['banner'])}</code> (manifest SHA-256 "
                        f"<code>{e(r['banner_manifest_sha256'])}</code>)",
                    ),
                    (
                        "Privacy policy in force",
                        f'<a href="{e(policy["url"])}">version {e(policy["version"])}</a>, '
                        f"SHA-256 <code>{e(policy['sha256'])}</code>",
                    ),
                )
            )
            + "</tbody>\n</table>\n"
            f"<h3>The words the visitor saw ({e(r['lang'])})</h3>\n"
            f'<div class="words" lang="{e(r["lang"])}">{e(r["words"])}</div>\n'
        )
        if r["screenshots"]:
            out.append(
                f"<h3>Screenshots of this banner version (taken "
                f"{e(banner['screenshots_taken_at'] or '')})</h3>\n"
            )
            for shot in r["screenshots"]:
                lang, layer, width = shot["file"][: -len(".png")].rsplit("-", 2)
                layer = "first layer" if layer == "banner" else "Cookie settings"
                alt = f"The {layer} of the banner in {lang}, {width} pixels wide"
                uri = f"data:image/png;base64,{banner['screenshots'][shot['file']]}"
                out.append(
                    f'<figure><img src="{uri}" alt="{e(alt)}">'
                    f"<figcaption>{e(shot['file'])}, SHA-256 <code>{e(shot['sha256'])}</code>"
                    "</figcaption></figure>\n"
                )
        else:
            out.append("<p>No screenshots of this banner version were learnt.</p>\n")
        out.append("</section>\n")
    out.append("</main>\n</body>\n</html>\n")
    return "".join(out)


# Export


def export(db: Database, since: str) -> list[dict[str, Any]]:
    with db.transaction(durable=False) as tx:
        return _receipts(tx, "received_at >= ?", (since,))


def csv_text(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# Statistics


def stats(db: Database) -> tuple[list[str], list[dict[str, Any]]]:
    """Per day and language: the count of each action, and of each provider always allowed.

    An "always" allows the providers its receipt has that the choice before it had not.
    """
    with db.transaction(durable=False) as tx:
        counted = tx.query(
            "SELECT substr(received_at, 1, 10) AS day, lang, action, COUNT(*) AS n"
            " FROM consent_receipts GROUP BY substr(received_at, 1, 10), lang, action"
        )
        always = tx.query(
            "SELECT substr(r.received_at, 1, 10) AS day, r.lang, r.embeds, p.embeds AS before"
            " FROM consent_receipts r LEFT JOIN consent_receipts p"
            " ON p.consent_id = r.consent_id AND p.seq = r.seq - 1 WHERE r.action = 'always'"
        )
        providers = set()
        for row in tx.query("SELECT manifest FROM consent_banners"):
            providers.update(json.loads(row["manifest"])["providers"])
    counts: Counter = Counter()
    for row in counted:
        counts[row["day"], row["lang"], row["action"]] += row["n"]
    for row in always:
        allowed = set(row["embeds"].split("+")) - set((row["before"] or "").split("+")) - {""}
        for provider in allowed:
            counts[row["day"], row["lang"], f"always {provider}"] += 1
            providers.add(provider)
    columns = [*ACTIONS, *(f"always {p}" for p in sorted(providers))]
    keys = sorted({(d, lang) for d, lang, _ in counts})
    table = [
        {"day": d, "lang": lang, **{c: counts[d, lang, c] for c in columns}} for d, lang in keys
    ]
    return columns, table


def stats_text(columns: list[str], table: list[dict[str, Any]]) -> str:
    header = ["day", "lang", *columns]
    lines = [header, *([str(row[c]) for c in header] for row in table)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.rjust(w) if i > 1 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    )


COLOURS = {"accept": "#1d70b8", "reject": "#d4351c", "withdraw": "#6f3a9e", "save": "#00703c"}


def stats_chart(table: list[dict[str, Any]]) -> str:
    """Bars per day of accept, reject, withdraw and save (all languages), as inline SVG."""
    days = sorted({row["day"] for row in table})
    totals = {d: Counter() for d in days}
    for row in table:
        for action in ACTIONS:
            totals[row["day"]][action] += row[action]
    top = max([1, *(n for t in totals.values() for n in t.values())])
    bar, gap, height = 12, 16, 160
    width = 48 + len(days) * (len(ACTIONS) * bar + gap)
    parts = []
    for i, d in enumerate(days):
        x0 = 48 + i * (len(ACTIONS) * bar + gap)
        for j, action in enumerate(ACTIONS):
            h = round(height * totals[d][action] / top)
            parts.append(
                f'<rect x="{x0 + j * bar}" y="{20 + height - h}" width="{bar - 2}" height="{h}" '
                f'fill="{COLOURS[action]}"/>'
            )
        parts.append(f'<text x="{x0}" y="{height + 36}" font-size="11">{html.escape(d[5:])}</text>')
    summary = ", ".join(f"{sum(t[a] for t in totals.values())} {a}" for a in ACTIONS)
    return (
        f'<svg role="img" aria-labelledby="chart-title chart-desc" width="{width}" '
        f'height="{height + 48}" viewBox="0 0 {width} {height + 48}" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="chart-title">Consent choices per day, all languages</title>'
        f'<desc id="chart-desc">From {html.escape(days[0] if days else "-")} to '
        f"{html.escape(days[-1] if days else '-')}: {summary}. The table below holds every "
        "number per day and language.</desc>"
        f'<text x="0" y="14" font-size="11">{top}</text>'
        f'<line x1="44" y1="{20 + height}" x2="{width}" y2="{20 + height}" stroke="#1b1b1b"/>'
        + "".join(parts)
        + "</svg>"
    )


def stats_page(columns: list[str], table: list[dict[str, Any]], written_at: str) -> str:
    e = html.escape
    legend = "".join(
        f'<li><span aria-hidden="true" style="color:{COLOURS[a]}">■</span> {a}</li>'
        for a in ACTIONS
    )
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in ["Day", "Language", *columns])
    body = "".join(
        f'<tr><th scope="row">{e(r["day"])}</th><td>{e(r["lang"])}</td>'
        + "".join(f"<td>{r[c]}</td>" for c in columns)
        + "</tr>\n"
        for r in table
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>Consent statistics · Cloud 7</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
        "<h1>Consent statistics</h1>\n"
        f"<p>Choices made in the consent banner, counted from the backend's receipts (counts "
        f"only). Written {e(written_at)}; days are UTC. This is the only measure of visitors "
        "who refused analytics: analytics itself never sees them.</p>\n"
        f"{stats_chart(table)}\n<ul>{legend}</ul>\n"
        f"<table>\n<caption>Choices per day and language</caption>\n<thead><tr>{head}</tr>"
        f"</thead>\n<tbody>\n{body}</tbody>\n</table>\n</main>\n</body>\n</html>\n"
    )


# The command line


def write(folder: str, name: str, data: Any, **views: str) -> Path:
    """A report in `folder`: `name`.json holding `data`, and `name`.<suffix> for each
    view of it (html=…, csv=…). Returns `folder`/`name`."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for suffix, text in views.items():
        (out / f"{name}.{suffix}").write_text(text, encoding="utf-8")
    (out / f"{name}.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return out / name


def run(args: argparse.Namespace, db: Database) -> int:
    """`python -m backend consent proof|export|stats` (cli.py reads the arguments)."""
    if args.action == "proof":
        data = proof(db, args.consent_id)
        name = f"consent-proof-{args.consent_id}"
        written = write(args.out, name, data, html=proof_page(data))
        print(f"Wrote {len(data['receipts'])} receipts to {written}.html and .json")
        return 0
    if args.action == "export":
        rows = export(db, args.since)
        name = f"consent-receipts-since-{args.since}"
        written = write(args.out, name, rows, csv=csv_text(rows))
        print(f"Wrote {len(rows)} receipts since {args.since} to {written}.csv and .json")
        return 0
    columns, table = stats(db)
    print(stats_text(columns, table))
    Path(args.out).write_text(stats_page(columns, table, now()), encoding="utf-8")
    print(f"Wrote {args.out}")
    return 0
