"""The shared goods-item fields (PERMIT-8, PERMIT-9, SHTC-16, REFERENCE.md): tariff code,
quantity and money, currency and country, export control number, unit, and the item form."""

from decimal import Decimal

import pytest
from django import forms as django_forms
from django.core.exceptions import ValidationError
from django.utils import translation

from permits import fields
from permits.models import Country, Currency

TARIFF_VECTORS = [
    "6307.90.50.31-1", "6307.90.50.10-6", "6307.90.50.20-4", "3705.00.00.30-6",
    "9002.90.90.00-2", "8501.51.10.00-4", "8535.30.20.00-8", "7616.99.90.00-5",
    "0101.21.00.00-3", "4810.29.00.00-9",
]


def error_code(field, value):
    with pytest.raises(ValidationError) as info:
        field.clean(value)
    return info.value.code


# --- Tariff code -----------------------------------------------------------------------------

@pytest.mark.parametrize("display", TARIFF_VECTORS)
def test_it_computes_the_printed_check_digit_of_every_reference_code(display):
    digits = display.replace(".", "").replace("-", "")
    assert fields.tariff_check_digit(digits[:10]) == int(digits[10])


@pytest.mark.parametrize("display", TARIFF_VECTORS)
def test_it_formats_a_stored_code_as_printed(display):
    digits = display.replace(".", "").replace("-", "")
    assert fields.format_tariff_code(digits) == display


@pytest.mark.parametrize("text", ["6307.90.50.31-1", "63079050311", " 63079050311 "])
def test_it_normalizes_a_tariff_code_to_11_digits(text):
    assert fields.normalize_tariff_code(text) == "63079050311"


def test_it_reads_full_width_tariff_digits():
    assert fields.normalize_tariff_code("６３０７９０５０３１１") == "63079050311"


@pytest.mark.parametrize("text", [
    "6307905031",          # 10 digits
    "630790503111",        # 12 digits
    "6307 90 50 31 1",     # blanks inside
    "6307-90-50-31-1",     # not the display form's separators
    "6307.90.50.311",      # dash missing
    "630790.50.31-1",      # dots where the display form has none
    "6307.90.50.31/1",
    "63079O50311",         # a letter O
    "6307.90.50.31-1x",
    "٦٣٠٧٩٠٥٠٣١١",         # Arabic-Indic digits
])
def test_it_refuses_a_malformed_tariff_code(text):
    assert error_code(fields.TariffCodeField(), text) == "tariff_format"


def test_it_refuses_the_display_form_where_separators_are_not_allowed():
    with pytest.raises(ValidationError) as info:
        fields.normalize_tariff_code("6307.90.50.31-1", allow_separators=False)
    assert info.value.code == "tariff_format"


def test_it_accepts_a_tariff_code_whose_check_digit_does_not_fit():
    field = fields.TariffCodeField()
    assert field.clean("6307.90.50.31-2") == "63079050312"


def test_it_warns_when_the_check_digit_does_not_fit():
    field = fields.TariffCodeField()
    field.clean("6307.90.50.31-2")
    assert [w.code for w in field.warnings] == ["tariff_check_digit"]


def test_it_gives_no_warning_for_a_fitting_check_digit():
    assert fields.tariff_warnings("63079050311") == []


def test_it_gives_no_warning_for_a_malformed_code():
    assert fields.tariff_warnings("6307") == []


def test_it_refuses_a_check_digit_request_that_is_not_10_digits():
    with pytest.raises(ValueError):
        fields.tariff_check_digit("630790503")


# --- Quantity, unit price, amount (PERMIT-9) -------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("100.55", Decimal("100.55")),
    ("600000", Decimal("600000")),
    ("0.5", Decimal("0.5")),
    ("999999999.9999", Decimal("999999999.9999")),
    ("1.50000", Decimal("1.5")),          # trailing zeros lose nothing
    (" 12 ", Decimal("12")),
])
def test_it_accepts_plain_quantities(text, expected):
    assert fields.QuantityField().clean(text) == expected


def test_it_treats_a_blank_quantity_as_missing():
    assert error_code(fields.QuantityField(), " \u3000") == "required"


def test_it_reads_full_width_quantity_digits():
    assert fields.QuantityField().clean("１００．５５") == Decimal("100.55")


@pytest.mark.parametrize("text", ["1,005", "600,000", "1,000,000.5", "1 005", "1'005", "1_005",
                                  "10,00,000", "１，００５"])
def test_it_refuses_thousands_separators(text):
    assert error_code(fields.QuantityField(), text) == "thousands_separator"


@pytest.mark.parametrize("text", [".5", ",5", "0,5", "05", "007", "00.5"])
def test_it_refuses_a_fraction_without_its_decimal_point(text):
    assert error_code(fields.QuantityField(), text) == "decimal_point"


@pytest.mark.parametrize("text", ["1e3", "1E3", "abc", "5.", "+5", "1.2.3", "Infinity", "NaN",
                                  "١٢"])
def test_it_refuses_what_is_not_a_plain_number(text):
    assert error_code(fields.QuantityField(), text) == "invalid"


def test_it_refuses_more_than_9_integer_digits_in_a_quantity():
    assert error_code(fields.QuantityField(), "1000000000") == "max_whole_digits"


def test_it_refuses_more_than_4_decimals():
    assert error_code(fields.QuantityField(), "1.00001") == "max_decimal_places"


@pytest.mark.parametrize("text", ["0", "0.0000", "-5", "-0.5"])
def test_it_refuses_a_quantity_that_is_not_positive(text):
    assert error_code(fields.QuantityField(), text) == "not_positive"


def test_it_accepts_a_unit_price_of_zero():
    assert fields.PriceField().clean("0") == Decimal("0")


def test_it_refuses_a_negative_unit_price():
    assert error_code(fields.PriceField(), "-1") == "negative"


def test_it_accepts_13_integer_digits_in_a_unit_price():
    assert fields.PriceField().clean("9999999999999.9999") == Decimal("9999999999999.9999")


def test_it_refuses_14_integer_digits_in_a_unit_price():
    assert error_code(fields.PriceField(), "10000000000000") == "max_whole_digits"


def test_it_accepts_15_integer_digits_in_an_amount():
    assert fields.AmountField().clean("999999999999999.9999") == Decimal("999999999999999.9999")


def test_it_refuses_16_integer_digits_in_an_amount():
    assert error_code(fields.AmountField(), "1000000000000000") == "max_whole_digits"


def test_it_refuses_thousands_separators_in_an_amount():
    assert error_code(fields.AmountField(), "1,005.00") == "thousands_separator"


def test_it_reads_spreadsheet_numbers_by_the_same_rules():
    assert fields.parse_decimal(100.55, max_whole_digits=9) == Decimal("100.55")


def test_it_shows_a_stored_quantity_without_trailing_zeros():
    assert fields.PlainNumberInput().format_value(Decimal("600000.0000")) == "600000"


def test_it_renders_quantities_as_text_inputs():
    assert 'type="text"' in fields.QuantityField().widget.render("quantity", "1,005")


# --- Currency and country --------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["usd", "USD", " Usd "])
def test_it_takes_a_currency_code_in_any_case(db, typed):
    assert fields.CurrencyField().clean(typed) == "USD"


def test_it_refuses_an_unknown_currency(db):
    assert error_code(fields.CurrencyField(), "XYZ") == "invalid_choice"


def test_it_refuses_a_currency_not_in_use(db):
    Currency.objects.filter(code="USD").update(active=False)
    assert error_code(fields.CurrencyField(), "USD") == "invalid_choice"


@pytest.mark.parametrize("typed", ["cn", "CN", "Cn"])
def test_it_takes_a_country_code_in_any_case(db, typed):
    assert fields.CountryField().clean(typed) == "CN"


def test_it_refuses_an_unknown_country(db):
    assert error_code(fields.CountryField(), "ZZ") == "invalid_choice"


def test_it_refuses_a_country_not_in_use(db):
    Country.objects.filter(code="KP").update(active=False)
    assert error_code(fields.CountryField(), "KP") == "invalid_choice"


@pytest.mark.parametrize(("code", "label"), [
    ("KP", "KP 北韓"), ("KR", "KR 南韓"), ("CN", "CN 中國大陸"), ("TW", "TW 臺灣"),
    ("IR", "IR 伊朗"),
])
def test_it_labels_countries_with_short_chinese_names(db, code, label):
    assert (code, label) in fields.CountryField().choices


def test_it_labels_countries_with_english_names_in_english(db):
    with translation.override("en"):
        assert ("KP", "KP North Korea") in fields.CountryField().choices


def test_it_labels_currencies_with_chinese_names(db):
    assert ("TWD", "TWD 新臺幣") in fields.CurrencyField().choices


def test_it_offers_a_blank_first_choice(db):
    assert list(fields.CountryField().choices)[0] == ("", "---------")


def test_it_selects_a_country_typed_in_lower_case(db):
    html = fields.CountryField().widget.render("origin_country", "cn")
    assert '<option value="CN" selected>' in html


# --- Export control number and unit ----------------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("3B001", "3B001"), ("5A002.a", "5A002.a"), ("5a002.A", "5A002.a"), ("0E001", "0E001"),
    ("ML1", "ML1"), ("ml22", "ML22"), (" 9E003 ", "9E003"),
])
def test_it_accepts_export_control_numbers(typed, stored):
    assert fields.ExportControlNoField().clean(typed) == stored


@pytest.mark.parametrize("typed", ["5F001", "5A02", "5A0021", "A5002", "ML0", "ML23", "ML",
                                   "5A002.", "5A002.1", "5A002-a", "5A002 a", "5A002.ab"])
def test_it_refuses_malformed_export_control_numbers(typed):
    assert error_code(fields.ExportControlNoField(), typed) == "control_no_format"


def test_it_refuses_an_export_control_number_longer_than_7_characters():
    assert error_code(fields.ExportControlNoField(), "5A002.a.1") == "control_no_format"


def test_it_upper_cases_a_unit():
    assert fields.UnitField().clean("kgm") == "KGM"


@pytest.mark.parametrize("typed", ["PC E", "KG-M", "ABCDEFGHIJK", "件"])
def test_it_refuses_a_malformed_unit(typed):
    assert error_code(fields.UnitField(), typed) == "unit_format"


# --- The item form ---------------------------------------------------------------------------

def item_data(**changes):
    data = {"tariff_code": "6307.90.50.31-1", "description": "醫用口罩", "brand": "",
            "model": "", "specification": "", "quantity": "600000", "unit": "PCE",
            "unit_price": "2.5", "currency": "usd", "amount": "1500000",
            "origin_country": "cn"}
    data.update(changes)
    return data


def test_it_cleans_an_item(db):
    form = fields.BaseItemForm(data=item_data())
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["tariff_code"], form.cleaned_data["currency"],
            form.cleaned_data["origin_country"]) == ("63079050311", "USD", "CN")


def test_it_computes_the_amount_when_left_blank(db):
    form = fields.BaseItemForm(data=item_data(quantity="100.55", unit_price="3.3333",
                                              amount=""))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == Decimal("335.1633")  # 335.163315, half up


def test_it_keeps_an_amount_that_was_entered(db):
    form = fields.BaseItemForm(data=item_data(amount="1499999"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == Decimal("1499999")


def test_it_refuses_a_computed_amount_too_large_for_its_column(db):
    form = fields.BaseItemForm(data=item_data(quantity="999999999", unit_price="9999999999",
                                              amount=""))
    assert not form.is_valid()
    assert form.errors.as_data()["amount"][0].code == "max_whole_digits"


def test_it_keeps_what_the_user_typed_on_errors(db):
    form = fields.BaseItemForm(data=item_data(quantity="1,005", tariff_code="6307 90"))
    assert not form.is_valid()
    assert (form["quantity"].value(), form["tariff_code"].value()) == ("1,005", "6307 90")
    assert 'value="1,005"' in str(form["quantity"])


def test_it_reports_each_bad_field_with_its_code(db):
    form = fields.BaseItemForm(data=item_data(quantity=".5", currency="XYZ", unit_price="1,5"))
    codes = {name: errors[0].code for name, errors in form.errors.as_data().items()}
    assert codes == {"quantity": "decimal_point", "currency": "invalid_choice",
                     "unit_price": "decimal_point"}


def test_it_collects_the_check_digit_warning_into_the_form(db):
    form = fields.BaseItemForm(data=item_data(tariff_code="6307.90.50.31-2"))
    assert form.is_valid(), form.errors
    assert [w.code for w in form.warnings["tariff_code"]] == ["tariff_check_digit"]


def test_it_has_no_warnings_for_a_fitting_code(db):
    form = fields.BaseItemForm(data=item_data())
    assert form.warnings == {}


def test_it_saves_an_item(db, applicant):
    from permits.models import Application, DocumentType

    application = Application.objects.create(
        document_type=DocumentType.MASK_IMPORT, applicant=applicant,
        applicant_identifier="22099131", applicant_name="安心醫材股份有限公司",
        applicant_address="臺北市", company_email="a@example.com")
    form = fields.BaseItemForm(data=item_data(amount=""))
    assert form.is_valid(), form.errors
    item = form.save(commit=False)
    item.application, item.line_no = application, 1
    item.save()
    item.refresh_from_db()
    assert (item.tariff_code, item.amount, item.origin_country) == (
        "63079050311", Decimal("1500000.0000"), "CN")


def test_it_shows_a_stored_tariff_code_in_display_form(db):
    from permits.models import Item

    form = fields.BaseItemForm(instance=Item(tariff_code="63079050311"))
    assert form["tariff_code"].value() == "6307.90.50.31-1"


# --- CodeSelect renders as Django's templates do (issue 10: without a template per option) ---

class SelectForm(django_forms.Form):
    country = fields.CountryField(label="Country")
    optional = fields.CountryField(label="Optional", required=False)
    currency = fields.CurrencyField(label="Currency")
    other = django_forms.ChoiceField(
        label="Other", choices=[("a<'", 'x"&<y'), ("", "-")],
        widget=fields.CodeSelect(attrs={"data-x": "1", "aria-describedby": "h"}))


def _as_django_renders(bound):
    """The field's widget rendered through Django's own select templates."""
    widget = bound.field.widget
    attrs = bound.build_widget_attrs({}, widget)
    attrs.setdefault("id", bound.auto_id)  # as BoundField.as_widget does
    return django_forms.Select.render(widget, bound.html_name, bound.value(), attrs)


@pytest.mark.parametrize("language", ["zh-hant", "en"])
@pytest.mark.parametrize("data", [
    None, {"country": "us", "optional": "", "currency": "usd", "other": "a<'"},
    {"country": "ZZ", "currency": "", "other": ""}])
def test_it_renders_a_code_select_as_django_does(db, language, data):
    with translation.override(language):
        for _ in range(2):  # the second time from this process's kept options
            form = SelectForm(data, initial={"country": "TW"})
            form.is_valid()
            for name in form.fields:
                bound = form[name]
                assert str(bound) == _as_django_renders(bound), name
    assert ('<option value="US" selected>' in str(form["country"])) == bool(data and
                                                                             "us" in data.values())


def test_it_renders_the_selected_option_and_the_language_of_the_request(db):
    with translation.override("en"):
        assert '<option value="KP" selected>KP North Korea</option>' in str(
            SelectForm(initial={"country": "kp"})["country"])
    html = str(SelectForm(initial={"country": "kp"})["country"])
    assert '<option value="KP" selected>KP 北韓</option>' in html
    assert html.count(" selected") == 1
    assert 'name="country" required id="id_country"' in html


def test_it_lists_a_renamed_country_at_once(db):
    str(SelectForm()["country"])
    Country.objects.filter(code="KP").update(name_zh="朝鮮")  # no signal: kept until the TTL
    assert "KP 北韓" in str(SelectForm()["country"])
    Country.objects.get(code="KP").save()  # a save through the admin clears the copy
    assert "KP 朝鮮" in str(SelectForm()["country"])
