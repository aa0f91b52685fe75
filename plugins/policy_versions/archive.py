"""Machine-readable history of a document: versions.json and an Atom feed.

``/<document>/versions.json``, schema 1::

    {
      "schema": 1,
      "document": "privacy-policy",          # the folder under content/policies/
      "title": "Privacy Policy",
      "url": "/privacy-policy/",             # the version in force; absolute with SITEURL
      "history_url": "/privacy-policy/history/",
      "feed_url": "/privacy-policy/feed.atom",
      "in_force": "2026-12-01",
      "versions": [                          # newest first
        {
          "effective": "2026-12-01",         # first day in force, YYYY-MM-DD
          "until": null,                     # last day in force, or null
          "period": "In force from 1 December 2026",
          "status": "in force",              # "in force", "superseded" or "upcoming"
          "draft": false,                    # true: not approved; only previews show it
          "url": "/privacy-policy/2026-12-01/",
          "changes_url": "/privacy-policy/2026-12-01/changes/",   # null for the first
          "record_url": "/privacy-policy/2026-12-01/2026-12-01.txt",
          "summary": "…",
          "reconsent": true,
          "sha256": "…",                     # of the record: text, then declaration
          "translations": [                  # by language; [] when there is none
            {
              "lang": "nl",
              "title": "Privacybeleid",
              "translated": "2027-01-15",    # its 'Translated' day: when it was published
              "url": "/privacy-policy/2026-12-01/nl/",
              "changes_url": "/privacy-policy/2026-12-01/nl/changes/",  # null for the first
              "record_url": "/privacy-policy/2026-12-01/nl/2026-12-01.nl.txt",
              "summary": "…",
              "draft": false,                # true: it or its version is not approved
              "sha256": "…"                  # of its Markdown file
            }
          ]
        }
      ]
    }

Only the original (DEFAULT_LANG) is the legal text; a translation has the period,
status and re-consent of the version it translates.
"""

from __future__ import annotations

import datetime as dt
import json
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from .model import PolicyDocument, PolicyTranslation, PolicyVersion

SCHEMA = 1
ATOM = "http://www.w3.org/2005/Atom"


def versions_json(document: PolicyDocument, site_url: str) -> str:
    def link(path: str) -> str:
        return f"{site_url}/{path}"

    def translation(text: PolicyTranslation) -> dict:
        return {
            "lang": text.lang,
            "title": text.title,
            "translated": text.translated.isoformat(),
            "url": link(text.url),
            "changes_url": link(text.changes_url) if text.original.previous else None,
            "record_url": link(text.url + text.record_name),
            "summary": text.summary_text,
            "draft": text.draft,
            "sha256": text.sha256,
        }

    def entry(version: PolicyVersion) -> dict:
        return {
            "effective": version.effective.isoformat(),
            "until": version.effective_until.isoformat() if version.effective_until else None,
            "period": version.period,
            "status": version.status,
            "draft": version.draft,
            "url": link(version.url),
            "changes_url": link(version.changes_url) if version.previous else None,
            "record_url": link(version.url + version.record_name),
            "summary": version.summary_text,
            "reconsent": version.reconsent,
            "sha256": version.sha256,
            "translations": [translation(t) for t in version.translations],
        }

    data = {
        "schema": SCHEMA,
        "document": document.slug,
        "title": document.title,
        "url": link(document.url),
        "history_url": link(document.history_url),
        "feed_url": link(document.feed_url),
        "in_force": document.in_force.effective.isoformat(),
        "versions": [entry(v) for v in document.newest_first],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _midnight(day: dt.date, zone: ZoneInfo) -> str:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone).isoformat()


def atom_feed(
    document: PolicyDocument, site_url: str, site_name: str, zone: ZoneInfo, today: dt.date
) -> bytes:
    """One entry per version and one per translation, dated by the day it was published
    (a version: the day it was locked, at the latest its effective day; a translation:
    the later of that and its own 'Translated:'), newest first. A draft, which only a
    preview lists, is dated by the day of the build and says it is a draft."""
    ET.register_namespace("", ATOM)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        element.text = text
        return element

    def absolute(path: str) -> str:
        # Atom ids must be absolute; without a SITEURL (local builds) a tag URI stands in.
        return f"{site_url}/{path}" if site_url else f"tag:{document.slug},policy:{path}"

    feed = ET.Element(f"{{{ATOM}}}feed")
    add(feed, "id", absolute(document.history_url))
    add(feed, "title", f"{document.title} — {site_name}: versions")
    texts = [text for v in document.newest_first for text in (v, *v.translations)]

    def published(text: PolicyVersion | PolicyTranslation) -> dt.date:
        return text.published or today

    texts.sort(key=published, reverse=True)  # stable: a version before its translations
    add(feed, "updated", _midnight(published(texts[0]), zone))
    author = add(feed, "author")
    add(author, "name", site_name)
    add(
        feed,
        "link",
        rel="self",
        type="application/atom+xml",
        href=f"{site_url}/{document.feed_url}",
    )
    add(feed, "link", rel="alternate", type="text/html", href=f"{site_url}/{document.history_url}")
    for text in texts:
        version = text.original
        entry = add(feed, "entry")
        add(entry, "id", absolute(text.url))
        state = f"{version.status}, draft, not approved" if text.draft else version.status
        title = f"{document.title}: version of {version.effective_text} ({state})"
        if text is not version:
            title += f", translation into {text.language}"
        add(entry, "title", title)
        add(entry, "updated", _midnight(published(text), zone))
        add(
            entry,
            "link",
            rel="alternate",
            type="text/html",
            hreflang=text.lang,
            href=f"{site_url}/{text.url}",
        )
        if version.previous:
            add(
                entry,
                "link",
                rel="related",
                type="text/html",
                href=f"{site_url}/{text.changes_url}",
            )
        summary = f"{version.period}. {text.summary_text}".strip()
        add(entry, "summary", summary)
        add(entry, "content", f"{summary}\nSHA-256: {text.sha256}", type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
