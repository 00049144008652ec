"""Identifier check digits (ACC-1) against REFERENCE.md's vectors and random numbers."""

import random

import pytest
from django.core.exceptions import ValidationError

from portal.accounts import identifiers
from portal.accounts.models import IdentifierType


@pytest.mark.parametrize("number", ["22099131", "12345675", "04595252", "62140097", "00501508"])
def test_it_accepts_the_reference_business_numbers(number):
    assert identifiers.is_valid_ban(number)


@pytest.mark.parametrize("number", ["00501502", "1234567", "123456789", "1234567A", ""])
def test_it_refuses_bad_business_numbers(number):
    assert not identifiers.is_valid_ban(number)


def _ban_sum(number):
    # Written independently of the module: the digit sum of each weighted product.
    total = 0
    for digit, weight in zip(number, "12121241", strict=True):
        total += sum(int(c) for c in str(int(digit) * int(weight)))
    return total


def _ban_ok(number, divisor):
    s = _ban_sum(number)
    return s % divisor == 0 or (number[6] == "7" and (s + 1) % divisor == 0)


def test_it_follows_the_2023_rule_on_random_numbers():
    rng = random.Random(20230401)
    seen_new_only = 0
    for _ in range(5000):
        number = f"{rng.randrange(10**8):08d}"
        assert identifiers.is_valid_ban(number) == _ban_ok(number, 5), number
        if _ban_ok(number, 5) and not _ban_ok(number, 10):
            seen_new_only += 1
    assert seen_new_only > 0  # the sample did reach numbers only the new rule accepts


def test_it_accepts_every_number_the_old_rule_did():
    rng = random.Random(7)
    for _ in range(5000):
        number = f"{rng.randrange(10**8):08d}"
        if _ban_ok(number, 10):
            assert identifiers.is_valid_ban(number)


def _id_with_check_digit(letter, body8):
    codes = "ABCDEFGHJKLMNPQRSTUVXYWZIO"  # A=10 … in the order of their numbers
    code = 10 + codes.index(letter)
    total = code // 10 + (code % 10) * 9
    total += sum(int(d) * w for d, w in zip(body8, range(8, 0, -1), strict=True))
    return f"{letter}{body8}{(10 - total % 10) % 10}"


@pytest.mark.parametrize("number", ["A123456789", "a123456789"])
def test_it_accepts_the_reference_id(number):
    assert identifiers.is_valid_national_id(identifiers.normalize(number))


def test_it_refuses_a_wrong_id_check_digit():
    assert not identifiers.is_valid_national_id("A123456788")


def test_it_checks_random_ids_and_resident_certificates():
    rng = random.Random(1911)
    for _ in range(2000):
        letter = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        second = rng.choice("1289")
        good = _id_with_check_digit(letter, second + f"{rng.randrange(10**7):07d}")
        assert identifiers.is_valid_national_id(good), good
        for wrong in set("0123456789") - {good[-1]}:
            assert not identifiers.is_valid_national_id(good[:-1] + wrong)


@pytest.mark.parametrize("number", ["A323456789", "1123456789", "A12345678"])
def test_it_refuses_malformed_ids(number):
    assert not identifiers.is_valid_national_id(number)


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [
        (IdentifierType.BAN, "1234567", "ban_format"),
        (IdentifierType.BAN, "00501502", "ban_checksum"),
        (IdentifierType.NATIONAL_ID, "A12345678", "national_id_format"),
        (IdentifierType.NATIONAL_ID, "A123456788", "national_id_checksum"),
        (IdentifierType.PASSPORT, "AB1", "passport_format"),
    ],
)
def test_it_names_what_is_wrong(kind, value, code):
    with pytest.raises(ValidationError) as error:
        identifiers.validate_identifier(kind, value)
    assert error.value.code == code


def test_it_normalizes_case_and_blanks():
    assert identifiers.normalize(" a123 456789 ") == "A123456789"


@pytest.mark.parametrize("number", ["２２０９９１３１", "٢٢٠٩٩١٣١"])
def test_it_refuses_digits_that_are_not_ascii(number):
    assert not identifiers.is_valid_ban(number)
    assert not identifiers.is_valid_national_id("A" + number[:1] + "23456789")
