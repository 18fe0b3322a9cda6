from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from runners import pricing
from runners.base import Usage

MILLION = Decimal(1_000_000)


def test_it_prices_all_four_token_kinds() -> None:
    usage = Usage(tokens_in=1_000_000, tokens_out=1_000_000, cache_read=1_000_000, cache_write=1_000_000)
    # claude-sonnet: 3 in, 15 out, 0.30 cache read, 3.75 cache write
    assert pricing.price("claude-sonnet-4-5-20250929", usage) == Decimal("22.05")


def test_it_matches_the_longest_prefix() -> None:
    usage = Usage(tokens_in=1_000_000)
    assert pricing.price("gpt-5-mini-2025-08-07", usage) == Decimal("0.25")
    assert pricing.price("gpt-5", usage) == Decimal("1.25")
    assert pricing.price("openai/GPT-5-mini", usage) == Decimal("0.25")  # provider prefix and case ignored


def test_it_prices_an_unknown_model_at_zero_and_says_so() -> None:
    assert pricing.price("llama3.1:8b", Usage(tokens_in=5_000, tokens_out=1_000)) == Decimal(0)
    assert not pricing.is_priced("llama3.1:8b")
    assert not pricing.is_priced("")
    assert pricing.is_priced("gemini-2.5-flash-preview-09-2025")


def test_it_applies_an_override_file_at_use_time(tmp_path: Path, settings: Any) -> None:
    override = tmp_path / "prices.toml"
    override.write_text('[models."llama3"]\ninput = 0.1\noutput = 0.2\n\n[models."gpt-5"]\ninput = 2\noutput = 20\n')
    settings.MESA_PRICES_FILE = str(override)
    assert pricing.price("llama3.1:8b", Usage(tokens_in=1_000_000, tokens_out=1_000_000)) == Decimal("0.3")
    assert pricing.price("gpt-5", Usage(tokens_in=1_000_000)) == Decimal(2)
    assert pricing.price("gpt-5-mini", Usage(tokens_in=1_000_000)) == Decimal("0.25")  # built-ins still there
    # edited while running: the next call sees the new price
    override.write_text('[models."llama3"]\ninput = 1\noutput = 1\n')
    stat = override.stat()
    os.utime(override, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert pricing.price("llama3", Usage(tokens_in=1_000_000)) == Decimal(1)


def test_it_falls_back_to_the_builtin_table_when_the_override_is_broken(
    tmp_path: Path, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    override = tmp_path / "prices.toml"
    override.write_text('[models."gpt-5"]\ninput = "cheap"\noutput = 1\n')
    settings.MESA_PRICES_FILE = str(override)
    assert pricing.price("gpt-5", Usage(tokens_in=1_000_000)) == Decimal("1.25")
    assert "MESA_PRICES_FILE" in caplog.text and "expected a number" in caplog.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml [", "invalid TOML"),
        ('[models."x"]\ninput = 1\n', "'input' and 'output' are required"),
        ('[models."x"]\ninput = -1\noutput = 1\n', "finite number >= 0"),
        ('[models."x"]\ninput = 1\noutput = 1\nspeed = 3\n', "unknown field"),
        ("models = 3\n", "must be a table"),
    ],
)
def test_it_explains_a_broken_prices_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(pricing.PricesFileError, match=message):
        pricing.check_prices_file(path)


def test_it_defaults_cached_and_cache_write_prices_to_the_input_price() -> None:
    table = pricing.parse_prices('[models."m"]\ninput = 2\noutput = 4\n')
    assert table["m"] == pricing.Price(Decimal(2), Decimal(2), Decimal(4), Decimal(2))


def test_the_builtin_table_is_valid() -> None:
    table = pricing.check_prices_file(pricing.BUILTIN_PRICES)
    assert {"claude-sonnet", "gpt-5", "gemini-2.5-flash"} <= set(table)
    assert all(p.output >= p.input >= p.cached_input for p in table.values())
