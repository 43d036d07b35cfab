"""Genesys Cloud's ISO-8601 timestamps to UTC epoch milliseconds.

The analytics API writes `2021-04-01T12:27:53.386Z`; hand-edited exports carry one-digit days or months
(`2021-04-2T15:30:51.418Z`, GenesysCloudBlueprints conversation-model-to-sql-blueprint conversation2.json). Those
are read and *counted* as normalised; anything else is malformed and quarantines its conversation.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$")
_STRICT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$")


class MalformedTimestamp(ValueError):
    """A timestamp that cannot be read even leniently (its conversation is quarantined)."""


def parse_ms(text: object) -> tuple[int, str | None]:
    """`text` as UTC epoch ms, and a note when it had to be normalised (None when it was well-formed).

    Raises MalformedTimestamp when it is no timestamp at all."""
    if not isinstance(text, str):
        raise MalformedTimestamp(f"timestamp is not a string: {text!r}")
    m = _ISO.match(text.strip())
    if m is None:
        raise MalformedTimestamp(f"malformed timestamp {text!r}")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    try:
        ms = int((frac or "0").ljust(3, "0")[:3])
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), ms * 1000, tzinfo=UTC)
    except ValueError as exc:
        raise MalformedTimestamp(f"malformed timestamp {text!r}: {exc}") from None
    offset_s = 0
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset_s = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    value = int(dt.timestamp() * 1000) - offset_s * 1000
    if _STRICT.match(text):
        return value, None
    if zone is None:
        return value, "timestamp without a time zone read as UTC"
    return value, "timestamp with one-digit fields normalised"
