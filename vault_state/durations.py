"""Durations as integer seconds: the spec's `90s`/`1h30m`/`7d` and Vault's Go `768h0m0s` alike.

Vault returns most TTLs as integer seconds but KV v2's `delete_version_after` as a Go
`time.Duration` string; both sides of a diff go through `to_seconds` so `1h`, `3600` and
`1h0m0s` compare equal.
"""

from __future__ import annotations

import re
from decimal import Decimal

_UNITS = {
    "d": Decimal(86400), "h": Decimal(3600), "m": Decimal(60), "s": Decimal(1),
    "ms": Decimal("1e-3"), "us": Decimal("1e-6"), "µs": Decimal("1e-6"), "ns": Decimal("1e-9"),
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|d|h|m|s)")
_WHOLE = re.compile(r"-?(?:\d+(?:\.\d+)?(?:ms|us|µs|ns|d|h|m|s))+")


def to_seconds(value: object) -> int:
    """Seconds in `value` (int, digit string, or unit string). Raises ValueError with a clear message."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 90s, 30m, 1h or 7d, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value}")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        if text == "system":  # Vault's word for "inherit", stored as 0
            return 0
        if _WHOLE.fullmatch(text) and not text.startswith("-"):
            # Exact decimal arithmetic, truncated to whole seconds as Vault does (`int(d.Seconds())`).
            return int(sum((Decimal(n) * _UNITS[u] for n, u in _PART.findall(text)), Decimal(0)))
    raise ValueError(f"invalid duration {value!r}: use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)")


def to_fractional_seconds(value: str) -> float:
    """Seconds in a unit string or a number, kept below one second (`200ms`, `0.5s`, `5m`): for the
    tool's own timers (`watch --interval`), never for a value sent to Vault."""
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(Decimal(text))
    if _WHOLE.fullmatch(text) and not text.startswith("-"):
        return float(sum((Decimal(n) * _UNITS[u] for n, u in _PART.findall(text)), Decimal(0)))
    raise ValueError(f"invalid duration {value!r}: use seconds (30) or units ms, s, m, h, d (500ms, 30s, 5m)")


def go_duration_to_seconds(value: object) -> int:
    """Seconds in a Go duration string as Vault returns it (`768h0m0s`, `-1s`, `0s`)."""
    if isinstance(value, str) and value.startswith("-"):
        return -to_seconds(value[1:])
    return to_seconds(value)


def format_seconds(seconds: int) -> str:
    """The shortest unit string for `seconds`, as export writes it: 3600 -> `1h`, 5400 -> `1h30m`.

    For display and the file only: Vault's parser takes `d` alone (`7d`) but not in a compound
    (`1d12h` fails), so values are sent to Vault as integer seconds, never in this form.
    """
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
