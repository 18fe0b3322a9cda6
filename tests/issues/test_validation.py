from __future__ import annotations

from issues.validation import shorten_title


def test_it_shortens_a_title_at_a_word_boundary() -> None:
    text = "Board review: MESA-1 " + "lengthy " * 60
    short = shorten_title(text)
    assert len(short) <= 300
    assert short.endswith("lengthy…")
    assert shorten_title("  fits   as is ") == "fits as is"


def test_it_cuts_one_very_long_word_where_it_must() -> None:
    short = shorten_title("x" * 400)
    assert short == "x" * 299 + "…"
