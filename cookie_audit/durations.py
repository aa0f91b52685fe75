"""Durations as a cookie table words them ("2 years", "6 months") and in seconds.

A month is the consent_banner plugin's, which keeps the consent cookie for its
lifetime in months: the audit's "6 months" is the same time.
"""

from __future__ import annotations

import re

from pelican.plugins.consent_banner.config import SECONDS_PER_MONTH

DAY = 86400.0
MONTH = SECONDS_PER_MONTH
UNITS = {
    "year": 365 * DAY,
    "month": MONTH,
    "week": 7 * DAY,
    "day": DAY,
    "hour": 3600.0,
    "minute": 60.0,
}
AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\b", re.IGNORECASE)
SESSION = re.compile(r"\bsession\b", re.IGNORECASE)


def parse_duration(text: str) -> float | None:
    """Seconds in "2 years", "6 months", "1 year 1 month"; 0 for a session; None if unreadable."""
    amounts = AMOUNT.findall(text)
    if amounts:
        return sum(float(number) * UNITS[unit.lower()] for number, unit in amounts)
    return 0.0 if SESSION.search(text) else None


def describe_duration(seconds: float) -> str:
    """Seconds in the largest unit that reads naturally: "2 years", "6 months", "3.2 years"."""
    unit = next((u for u in ("year", "month", "day", "hour") if seconds >= UNITS[u]), "minute")
    shown = f"{seconds / UNITS[unit]:.1f}".removesuffix(".0")
    return f"{shown} {unit}{'' if shown == '1' else 's'}"
