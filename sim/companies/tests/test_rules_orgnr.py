"""Swedish organisation numbers: sim.companies.rules.parse_org_number and OrgNumber.

Pure rules: these tests need neither a database nor Django settings (they also run with
``pytest -p no:django``).
"""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from django.apps import apps
from hypothesis import given
from hypothesis import strategies as st

from sim.companies.rules import (
    LEGAL_FORM_GROUPS,
    InvalidOrgNumber,
    OrgNumber,
    luhn_check_digit,
    parse_org_number,
)


def english():
    """Translation override to English when Django is set up, a no-op otherwise."""
    if apps.ready:
        from django.utils.translation import override

        return override("en")
    return contextlib.nullcontext()


def complete(nine: str) -> str:
    return nine + luhn_check_digit(nine)


def error_code(value: str, **kwargs) -> str:
    with pytest.raises(InvalidOrgNumber) as info:
        parse_org_number(value, **kwargs)
    return info.value.code


# A real-looking aktiebolag number (Luhn-valid) and some personal numbers for fixtures.
AB = "5560000001"
VOLVO = "5560125790"
PERSON = complete("800101123")  # 1980-01-01, 8001011231
COORDINATION = complete("800161123")  # samordningsnummer: day 01 + 60


# ---- luhn_check_digit --------------------------------------------------------------------------


def test_luhn_check_digit_known_numbers():
    assert luhn_check_digit("556000000") == "1"
    assert luhn_check_digit("556012579") == "0"  # AB Volvo 556012-5790


@pytest.mark.parametrize("bad", ["", "12345678", "1234567890", "55600000x", "５５６０００００１"])
def test_luhn_check_digit_rejects_anything_but_nine_digits(bad):
    with pytest.raises(ValueError):
        luhn_check_digit(bad)


# ---- accepted forms -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "5560000001",
        "556000-0001",
        "556000 0001",
        "  556000-0001  ",
        "556000 - 0001",
        "556000\u20130001",  # en dash pasted from a word processor
        "165560000001",
        "16556000-0001",
        "SE556000000101",
        "se556000000101",
        "SE 5560000001 01",
    ],
)
def test_legal_entity_forms_all_give_the_same_number(value):
    number = parse_org_number(value)
    assert number == OrgNumber("5560000001", is_personal=False)
    assert number.formatted == "556000-0001"
    assert number.twelve_digit == "165560000001"
    assert number.vat_number == "SE556000000101"
    assert number.legal_form_group == "limited_company"
    assert not number.is_public_body
    assert str(number) == "556000-0001"


def test_legal_entity_allowed_when_personal_numbers_are_not():
    assert parse_org_number(VOLVO, allow_personal=False).digits == VOLVO


@pytest.mark.parametrize(
    "value",
    [
        PERSON,
        f"{PERSON[:6]}-{PERSON[6:]}",
        f"{PERSON[:6]}+{PERSON[6:]}",  # the plus sign: aged 100 or more
        f"19{PERSON}",
        f"19{PERSON[:6]}-{PERSON[6:]}",
    ],
)
def test_personal_identity_number_forms(value):
    number = parse_org_number(value)
    assert number.digits == PERSON
    assert number.is_personal
    assert number.legal_form_group == "sole_trader"
    assert number.twelve_digit is None  # the century cannot be recovered from 10 digits
    assert number.vat_number == f"SE{PERSON}01"
    assert number.formatted == "800101-1231"
    assert not number.is_public_body


def test_personal_number_from_the_2000s():
    value = complete("050228987")
    number = parse_org_number(f"20{value}")
    assert number.is_personal and number.digits == value


def test_coordination_number_day_plus_sixty():
    assert parse_org_number(COORDINATION).is_personal
    assert parse_org_number(f"19{COORDINATION}").is_personal
    # 61–91 is the valid range: 91 is day 31 of a 31-day month.
    assert parse_org_number(complete("800191123")).is_personal


def test_leap_day_without_century_is_accepted_but_checked_with_century():
    leap = complete("000229123")
    assert parse_org_number(leap).is_personal  # 2000-02-29 (or 1900-02-29: no century given)
    assert parse_org_number(f"20{leap}").is_personal  # 2000 is a leap year
    # Without the century the year is unknown, so 29 February is accepted for any YY …
    not_leap = complete("010229123")
    assert parse_org_number(not_leap).is_personal
    # … but with the century it is checked: 2001-02-29 does not exist.
    assert error_code(f"20{not_leap}") == "date"


def test_personal_numbers_rejected_when_not_allowed():
    assert error_code(PERSON, allow_personal=False) == "personal_not_allowed"
    assert error_code(f"19{PERSON}", allow_personal=False) == "personal_not_allowed"
    assert error_code(f"SE{PERSON}01", allow_personal=False) == "personal_not_allowed"


def test_sole_trader_vat_number_form():
    assert parse_org_number(f"SE{PERSON}01").is_personal


@pytest.mark.parametrize(
    ("first", "group"),
    [
        ("1", "estate"),
        ("2", "public"),
        ("3", "foreign"),
        ("4", None),
        ("5", "limited_company"),
        ("6", "simple_partnership"),
        ("7", "economic_association"),
        ("8", "non_profit"),
        ("9", "partnership"),
        ("0", None),
    ],
)
def test_legal_form_group_from_first_digit(first, group):
    number = parse_org_number(complete(f"{first}12000000"))
    assert number.legal_form_group == group
    assert number.is_public_body == (group == "public")
    assert LEGAL_FORM_GROUPS.get(first) == group


def test_municipality_is_public_body():
    # Östersunds kommun 212000-2627
    number = parse_org_number("212000-2627")
    assert number.is_public_body and number.legal_form_group == "public"


# ---- rejected forms and their messages -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (None, "empty"),
        ("556000-000A", "characters"),
        ("556000/0001", "characters"),
        ("556000.0001", "characters"),
        ("SE55600000010X", "characters"),
        ("556000--0001", "format"),
        ("5560-000001", "format"),
        ("-5560000001", "format"),
        ("556000-0001-", "format"),
        ("556000+0001", "plus"),  # legal entity with a plus sign
        (f"19{PERSON[:6]}+{PERSON[6:]}", "plus"),
        ("556000000", "length"),
        ("55600000011", "length"),
        ("5560000000001", "length"),
        ("SE5560000001", "vat_length"),
        ("SE55600000010", "vat_length"),
        ("SE556000000102", "vat_suffix"),
        ("175560000001", "prefix"),
        ("005560000001", "prefix"),
        (f"16{PERSON}", "prefix_mismatch"),
        ("5560000002", "check_digit"),
        ("556000-0009", "check_digit"),
        ("165560000002", "check_digit"),
        (f"19{PERSON[:-1]}9", "check_digit"),
        (complete("801301123"), "date"),  # month 13
        (complete("800001123"), "date"),  # month 00
        (complete("800100123"), "date"),  # day 00
        (complete("800132123"), "date"),  # day 32
        (complete("800160123"), "date"),  # day 60 (= coordination day 0)
        (complete("800192123"), "date"),  # day 92
        (complete("800431123"), "date"),  # 31 April
        (complete("800230123"), "date"),  # 30 February
        (f"19{AB}", "date"),  # a legal entity number with a birth-year prefix
    ],
)
def test_rejections_have_specific_codes(value, code):
    assert error_code(value) == code


def test_messages_are_distinct_human_text_and_do_not_echo_the_number():
    messages = {}
    with english():
        for code in InvalidOrgNumber.CODES:
            exc = InvalidOrgNumber(code)
            text = str(exc)
            assert text and text[0].isupper() and text.endswith(".")
            assert isinstance(exc, ValueError)
            messages[code] = text
    assert len(set(messages.values())) == len(messages)
    with pytest.raises(InvalidOrgNumber) as info:
        parse_org_number(PERSON, allow_personal=False)
    with english():
        assert PERSON not in str(info.value)
        assert "personal identity number" in str(info.value).lower()


@pytest.mark.parametrize(
    ("value", "keyword"),
    [
        ("", "enter"),
        ("abc", "digits"),
        ("556000000", "10 digits"),
        ("5560000002", "check digit"),
        (complete("801301123"), "valid date"),
        (PERSON, "sole trader"),
    ],
)
def test_message_keywords(value, keyword):
    with pytest.raises(InvalidOrgNumber) as info:
        parse_org_number(value, allow_personal=False)
    with english():
        assert keyword in str(info.value).lower()


def test_repr_masks_personal_numbers():
    assert "1231" not in repr(parse_org_number(PERSON))
    assert AB in repr(parse_org_number(AB))


def test_orgnumber_requires_ten_digits():
    with pytest.raises(ValueError):
        OrgNumber("123")
    with pytest.raises(ValueError):
        OrgNumber("556000000a")


def test_non_string_input_is_a_type_error():
    with pytest.raises(TypeError):
        parse_org_number(5560000001)  # type: ignore[arg-type]


# ---- properties ----------------------------------------------------------------------------------

legal_entity_nine = st.builds(
    lambda a, middle, rest: f"{a}{middle:02d}{rest}",
    st.text("0123456789", min_size=2, max_size=2),
    st.integers(min_value=20, max_value=99),
    st.text("0123456789", min_size=5, max_size=5),
)


@given(legal_entity_nine)
def test_any_legal_entity_number_with_its_check_digit_parses(nine):
    digits = complete(nine)
    number = parse_org_number(digits, allow_personal=False)
    assert number.digits == digits and not number.is_personal


@given(legal_entity_nine, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_changing_any_single_digit_makes_it_fail(nine, position, delta):
    digits = complete(nine)
    changed = digits[:position] + str((int(digits[position]) + delta) % 10) + digits[position + 1 :]
    with pytest.raises(InvalidOrgNumber) as info:
        parse_org_number(changed)
    assert info.value.code == "check_digit"  # Luhn catches every single-digit error


@given(legal_entity_nine)
def test_all_written_forms_parse_back_to_the_same_digits(nine):
    number = parse_org_number(complete(nine))
    for form in (number.formatted, number.twelve_digit, number.vat_number, f"16{number.formatted}"):
        assert parse_org_number(form) == number


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.text("0123456789", min_size=3, max_size=3),
    st.booleans(),
)
def test_personal_numbers_from_real_dates_parse(birth, serial, coordination):
    day = birth.day + (60 if coordination else 0)
    nine = f"{birth:%y%m}{day:02d}{serial}"
    digits = complete(nine)
    number = parse_org_number(digits)
    assert number.is_personal and number.digits == digits
    assert parse_org_number(f"{birth.year // 100}{digits}") == number
    assert parse_org_number(number.formatted) == number
    assert parse_org_number(number.vat_number) == number
