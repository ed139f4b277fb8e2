"""Texts for spreadsheet exports are never formulas."""

import pytest

from sim.core.spreadsheet import safe_text


@pytest.mark.parametrize("text", ["=1+1", "+46 70 123", "-5", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_a_text_starting_like_a_formula_is_quoted(text):
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize("value, expected", [("Svetsare", "Svetsare"), ("", ""), (None, ""), (12, "12"),
                                             ("a=b", "a=b"), ("556000-0001", "556000-0001")])
def test_other_values_are_their_text(value, expected):
    assert safe_text(value) == expected
