"""The ROC calendar: the filter shows 109/09/12, the form field takes ROC or Gregorian."""

import datetime

import pytest
from django import forms
from django.template import Context, Template
from django.utils import timezone

from portal.forms import RocDateField


def render(template, **context):
    return Template("{% load roc %}" + template).render(Context(context))


def test_it_shows_a_date_in_the_roc_calendar():
    assert render("{{ d|roc }}", d=datetime.date(2020, 9, 12)) == "109/09/12"


def test_it_shows_the_long_roc_form():
    assert render("{{ d|roc_long }}", d=datetime.date(2020, 9, 12)) == "民國109年9月12日"


def test_it_pads_years_before_100():
    assert render("{{ d|roc }}", d=datetime.date(2010, 1, 2)) == "099/01/02"


def test_it_shows_aware_datetimes_in_taipei_time():
    # 2020-09-11 17:30 UTC is already 09/12 in Taipei (UTC+8).
    moment = datetime.datetime(2020, 9, 11, 17, 30, tzinfo=datetime.UTC)
    with timezone.override("Asia/Taipei"):
        assert render("{{ d|roc_datetime }}", d=moment) == "109/09/12 01:30"


def test_it_shows_nothing_for_no_date():
    assert render("{{ d|roc }}", d=None) == ""


@pytest.mark.parametrize(
    "text",
    ["109/09/12", "109-09-12", "109.9.12", "1090912", "2020-09-12", "2020/09/12", " 109/9/12 "],
)
def test_it_accepts_roc_and_gregorian_input(text):
    assert RocDateField().clean(text) == datetime.date(2020, 9, 12)


@pytest.mark.parametrize("text", ["109/02/30", "0/01/01", "2020-13-01", "abc", "109/09", "12"])
def test_it_refuses_what_is_not_a_date(text):
    with pytest.raises(forms.ValidationError) as error:
        RocDateField().clean(text)
    assert error.value.code == "invalid"


class _Form(forms.Form):
    day = RocDateField()


def test_it_shows_the_stored_date_in_roc_and_keeps_bad_input():
    assert 'value="109/09/12"' in str(_Form(initial={"day": datetime.date(2020, 9, 12)}))
    bound = _Form(data={"day": "109/13/40"})
    assert not bound.is_valid()
    assert 'value="109/13/40"' in str(bound["day"])
