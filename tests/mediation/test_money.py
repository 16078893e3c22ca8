"""Money is integer minor units plus an ISO 4217 currency (DESIGN §3)."""

from __future__ import annotations

import pytest

from mediation.money import CURRENCY_CHOICES, MINOR_UNITS, format_money, is_currency


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (24000, "USD", "240.00 USD"),
        (5, "USD", "0.05 USD"),
        (0, "USD", "0.00 USD"),
        (123456789, "USD", "1,234,567.89 USD"),
        (1500, "JPY", "1,500 JPY"),
        (0, "JPY", "0 JPY"),
        (1234, "BHD", "1.234 BHD"),
        (5, "BHD", "0.005 BHD"),
        (1234567, "KWD", "1,234.567 KWD"),
        (-150, "USD", "-1.50 USD"),
        (-5, "USD", "-0.05 USD"),
        (-1500, "JPY", "-1,500 JPY"),
        (-1234, "BHD", "-1.234 BHD"),
    ],
)
def test_format_money(amount: int, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text


def test_format_money_of_an_unlisted_currency_assumes_two_decimals() -> None:
    assert format_money(12345, "XYZ") == "123.45 XYZ"


def test_is_currency() -> None:
    assert is_currency("USD") and is_currency("JPY") and is_currency("BHD")
    assert not is_currency("usd")
    assert not is_currency("XYZ")
    assert not is_currency("")
    assert not is_currency("USDX")


def test_minor_units_of_well_known_currencies() -> None:
    assert (MINOR_UNITS["USD"], MINOR_UNITS["EUR"], MINOR_UNITS["GBP"]) == (2, 2, 2)
    assert (MINOR_UNITS["JPY"], MINOR_UNITS["KRW"]) == (0, 0)
    assert (MINOR_UNITS["BHD"], MINOR_UNITS["KWD"], MINOR_UNITS["TND"]) == (3, 3, 3)
    assert all(len(code) == 3 and code.isupper() for code in MINOR_UNITS)
    assert [code for code, _ in CURRENCY_CHOICES] == sorted(MINOR_UNITS)
