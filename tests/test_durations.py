"""Durations: the file's `90s`/`1h30m`/`7d`, Vault's Go `768h0m0s`, and export's shortest form."""

from __future__ import annotations

import pytest

from vault_state.durations import format_seconds, go_duration_to_seconds, to_fractional_seconds, to_seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("1h", 3600),
        ("1h30m", 5400),
        ("7d", 604800),
        ("1d12h", 129600),
        ("0s", 0),
        (3600, 3600),
        (0, 0),
        ("3600", 3600),
        ("0", 0),
        (" 90s ", 90),
        ("system", 0),  # Vault's word for "inherit", stored as 0
        ("1.5h", 5400),  # decimals, as Vault's parser takes them
        ("0.1h", 360),  # exact: no binary floating-point error
        ("1.15h", 4140),
        ("1.9s", 1),  # truncated to whole seconds, as Vault does (int(d.Seconds()))
        ("2.5d", 216000),
    ],
)
def test_to_seconds(value: object, seconds: int) -> None:
    assert to_seconds(value) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1x", "invalid duration '1x': use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)"),
        ("", "invalid duration '': use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)"),
        ("h", "invalid duration 'h': use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)"),
        ("1 h", "invalid duration '1 h': use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)"),
        ("-1s", "invalid duration '-1s': use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)"),
        (1.5, "invalid duration 1.5: use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)"),
        (None, "invalid duration None: use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)"),
        (-5, "a duration cannot be negative, got -5"),
        (True, "expected a duration such as 90s, 30m, 1h or 7d, got True"),
        (False, "expected a duration such as 90s, 30m, 1h or 7d, got False"),
    ],
)
def test_to_seconds_errors(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        to_seconds(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("768h0m0s", 2764800),
        ("1h30m0s", 5400),
        ("0s", 0),
        ("-1s", -1),
        ("1m0.5s", 60),  # Go prints fractions; they round to whole seconds
        (3600, 3600),
    ],
)
def test_go_duration_to_seconds(value: object, seconds: int) -> None:
    assert go_duration_to_seconds(value) == seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("200ms", 0.2), ("0.2s", 0.2), ("5m", 300.0), ("1h30m", 5400.0), ("30", 30.0), ("0.5", 0.5), (" 7d ", 604800.0)],
)
def test_to_fractional_seconds(value: str, seconds: float) -> None:
    assert to_fractional_seconds(value) == seconds


@pytest.mark.parametrize("value", ["-1s", "-3", "nan", "inf", "1e3", "5 minutes", ""])
def test_to_fractional_seconds_errors(value: str) -> None:
    with pytest.raises(ValueError) as caught:
        to_fractional_seconds(value)
    assert str(caught.value) == f"invalid duration {value!r}: use seconds (30) or units ms, s, m, h, d (500ms, 30s, 5m)"


def test_go_duration_errors() -> None:
    with pytest.raises(ValueError):
        go_duration_to_seconds("--1s")
    with pytest.raises(ValueError):
        go_duration_to_seconds("forever")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (1, "1s"),
        (59, "59s"),
        (60, "1m"),
        (90, "1m30s"),
        (3600, "1h"),
        (5400, "1h30m"),
        (86400, "1d"),
        (90061, "1d1h1m1s"),
        (604800, "7d"),
        (2764800, "32d"),
    ],
)
def test_format_seconds(seconds: int, text: str) -> None:
    assert format_seconds(seconds) == text


@pytest.mark.parametrize("seconds", [0, 1, 61, 3599, 5400, 86399, 86401, 2764800])
def test_format_seconds_round_trips(seconds: int) -> None:
    assert to_seconds(format_seconds(seconds)) == seconds
