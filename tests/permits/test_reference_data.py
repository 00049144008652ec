"""The reference tables seeded by permits/migrations/0002_reference_data.py (REFERENCE.md):
countries with their short Chinese names, currencies in use. pytest-django builds the test
database by running the migrations, so the rows are there."""

import csv
import importlib
from pathlib import Path

import pytest
from django.apps import apps

from permits.models import Country, Currency

DATA_DIR = Path(__file__).resolve().parents[2] / "permits" / "data"

seed = importlib.import_module("permits.migrations.0002_reference_data")


def read(filename):
    with open(DATA_DIR / filename, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_it_seeds_every_iso_country(db):
    assert Country.objects.count() >= 240


def test_it_seeds_the_currencies_in_use(db):
    assert Currency.objects.count() >= 150


@pytest.mark.parametrize(("code", "name_zh"), [
    ("TW", "臺灣"), ("US", "美國"), ("CN", "中國大陸"), ("HK", "香港"), ("MO", "澳門"),
    ("JP", "日本"), ("KR", "南韓"), ("KP", "北韓"), ("IR", "伊朗"), ("DE", "德國"),
    ("GB", "英國"), ("FR", "法國"), ("RU", "俄羅斯"), ("VN", "越南"), ("SG", "新加坡"),
    ("MY", "馬來西亞"), ("TH", "泰國"), ("ID", "印尼"), ("PH", "菲律賓"), ("IN", "印度"),
    ("AE", "阿拉伯聯合大公國"), ("TR", "土耳其"),
])
def test_it_gives_countries_their_short_chinese_names(db, code, name_zh):
    assert Country.objects.get(code=code).name_zh == name_zh


def test_it_gives_countries_english_names(db):
    assert Country.objects.get(code="KP").name_en == "North Korea"


@pytest.mark.parametrize(("code", "name_zh"), [
    ("USD", "美元"), ("EUR", "歐元"), ("JPY", "日圓"), ("CNY", "人民幣"), ("TWD", "新臺幣"),
    ("HKD", "港幣"), ("GBP", "英鎊"), ("KRW", "韓圜"),
])
def test_it_gives_currencies_their_chinese_names(db, code, name_zh):
    assert Currency.objects.get(code=code).name_zh == name_zh


def test_it_leaves_out_fund_and_metal_codes(db):
    assert not Currency.objects.filter(code__in=["XAU", "XDR", "XTS", "XXX", "USN"]).exists()


def test_it_seeds_every_row_in_use(db):
    assert not Country.objects.filter(active=False).exists()


def test_it_loads_every_csv_row(db):
    assert (len(read("countries.csv")), len(read("currencies.csv"))) == (
        Country.objects.count(), Currency.objects.count())


def test_it_has_unique_well_formed_country_codes():
    codes = [row["code"] for row in read("countries.csv")]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in codes)


def test_it_has_unique_well_formed_currency_codes():
    codes = [row["code"] for row in read("currencies.csv")]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 3 and code.isascii() and code.isupper() for code in codes)


def test_it_fits_every_name_in_its_column():
    rows = read("countries.csv") + read("currencies.csv")
    assert all(len(r["name_zh"]) <= 40 and 0 < len(r["name_en"]) <= 80 for r in rows)


def test_it_can_run_the_seed_again_without_duplicates(db):
    before = (Country.objects.count(), Currency.objects.count())
    seed.load_reference_data(apps, None)
    assert (Country.objects.count(), Currency.objects.count()) == before


def test_it_keeps_the_bureaus_deactivation_when_run_again(db):
    Currency.objects.filter(code="CUC").update(active=False)
    seed.load_reference_data(apps, None)
    assert Currency.objects.get(code="CUC").active is False


def test_it_restores_a_name_when_run_again(db):
    Country.objects.filter(code="KP").update(name_zh="朝鮮")
    seed.load_reference_data(apps, None)
    assert Country.objects.get(code="KP").name_zh == "北韓"
