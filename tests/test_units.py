"""``parse_quantity`` turns user unit strings into SI floats, and says what is valid when it cannot."""

import pytest

from virtsim.config.units import parse_quantity


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("20 s", "time", 20.0),
        ("150 ms", "time", 0.15),
        ("3 us", "time", 3e-6),
        ("3 µs", "time", 3e-6),
        ("2 min", "time", 120.0),
        ("2 h", "time", 7200.0),
        (5, "time", 5.0),
        ("2.5", "time", 2.5),
        ("8 GiB", "size", 8 * 2**30),
        ("64 GiB", "size", 68719476736),
        ("512 MiB", "size", 512 * 2**20),
        ("1 KiB", "size", 1024),
        ("1 TiB", "size", 2**40),
        ("8 KB", "size", 8000),
        ("1 GB", "size", 1e9),
        ("1 TB", "size", 1e12),
        ("100 B", "size", 100),
        ("0.8 /s", "rate", 0.8),
        ("30 /min", "rate", 0.5),
        ("7200 /h", "rate", 2.0),
        ("2 per s", "rate", 2.0),
        (0.8, "rate", 0.8),
    ],
)
def test_parses_to_si(text, kind, expected):
    assert parse_quantity(text, kind) == pytest.approx(expected)


def test_signs_are_kept_for_the_schema_to_judge():
    assert parse_quantity("-5 s", "time") == -5.0


@pytest.mark.parametrize(
    ("text", "kind", "fragment"),
    [
        ("20 parsecs", "time", "expected a time like '20 s', '150 ms', '2 h'; got '20 parsecs'"),
        ("5 s", "rate", "expected a rate like"),
        ("8 GiB", "time", "expected a time like"),
        (8, "size", "with a unit like '8 GiB'"),
        ("8", "size", "with a unit like '8 GiB'"),
        ("8 percent", "size", "expected a size like"),
        ("nan s", "time", "finite"),
        (True, "time", "expected a time"),
        ([1], "time", "expected a time"),
    ],
)
def test_rejects_with_a_message_naming_valid_forms(text, kind, fragment):
    with pytest.raises(ValueError) as info:
        parse_quantity(text, kind)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "bytes_per_s"),
    [("10 Gbit/s", 1.25e9), ("806.9 MB/s", 806.9e6), ("1 GiB/s", 2.0**30), ("1 KB/s", 1000.0), ("100 Mbit/s", 12.5e6)],
)
def test_bandwidth_in_bytes_per_second(text, bytes_per_s):
    assert parse_quantity(text, "bandwidth") == pytest.approx(bytes_per_s, rel=1e-12)


@pytest.mark.parametrize("text", ["100 Mb/s", "5", 5, "3 GiB", "10 /s"])
def test_bandwidth_needs_an_information_unit_per_time(text):
    # 'Mb' is pint's megabarn (an area), so it must not pass as a megabit.
    with pytest.raises(ValueError, match="bandwidth"):
        parse_quantity(text, "bandwidth")
