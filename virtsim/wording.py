"""How error messages quote what was written, and suggest near misses: ``did you mean 'vcpus'?``.

Plain text helpers shared by every layer that reports bad input (config, data readers).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["close_matches", "closest", "did_you_mean", "format_value", "listing", "unknown"]


def format_value(value: object, limit: int = 60) -> str:
    """The offending value as quoted in messages: strings quoted, long ones cut."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` was most likely meant to be, if any is close."""
    candidates = sorted(candidates)
    word = str(word)
    prefixed = [c for c in candidates if word and c.lower().startswith(word.lower())]
    if len(prefixed) == 1:
        return prefixed[0]
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def close_matches(word: str, candidates: Iterable[str], limit: int = 5) -> list[str]:
    """Up to ``limit`` candidates near ``word``: those it begins (or, from 3 letters, is part of), then look-alikes."""
    candidates = sorted(candidates)
    word = str(word)
    lowered = word.lower()
    near = [c for c in candidates if c.lower().startswith(lowered) or (len(lowered) >= 3 and lowered in c.lower())]
    near += [c for c in difflib.get_close_matches(word, candidates, n=limit, cutoff=0.6) if c not in near]
    return near[:limit]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or ``""`` if none is close."""
    match = closest(word, candidates)
    return f"; did you mean {match!r}?" if match else ""


def unknown(what: str, word: object, candidates: Iterable[str]) -> str:
    """``unknown target 'x' (did you mean 'y'?); valid targets: a, b, c``."""
    candidates = sorted(candidates)
    match = closest(str(word), candidates)
    hint = f" (did you mean {match!r}?)" if match else ""
    return f"unknown {what} {word!r}{hint}; valid {what}s: {listing(candidates) or 'none'}"


def listing(names: Iterable[str], limit: int = 10) -> str:
    """Up to ``limit`` names, comma-separated, with a count of the rest."""
    names = list(names)
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return f"{shown}, ... ({rest} more)" if rest > 0 else shown
