"""A field a form puts in place of its class's (portal.forms.put_field: the end user's 中文名稱
with its help, the basic data's locked 申請人統一編號) is made once per class, and an unbound
form copies it only when taken out, as it does the class's own (issue 10). Whatever a form
then changes stays with that form; a bound form holds its own copy at once; reading a field
through read_field copies nothing. The drawings are Django's full copy's
(tests/portal/test_fields_copied_on_use.py)."""

from types import SimpleNamespace

import pytest
from django.utils import translation

from permits import entry
from permits.entry import BasicDataForm
from permits.parties import END_USER_NAME_ZH, PartyForm
from permits.templatetags import form_fields
from portal.forms import FieldsCopiedOnUse, put_field, read_field
from shtc.forms import ShtcBasicDataForm
from tests.portal.test_fields_copied_on_use import drawn

APPLICANT_USER = SimpleNamespace(is_agent=False, identifier="22099131", name="安心科技")
AGENT_USER = SimpleNamespace(is_agent=True, identifier="12345675", name="報關行")
HELP = "Required for a company in mainland China (CN)."


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_the_end_users_chinese_name_is_put_once_and_copied_on_use():
    form = PartyForm(role="end_user")
    assert form.fields.shared("name_zh")
    assert form.fields.read_only("name_zh") is END_USER_NAME_ZH
    taken = form.fields["name_zh"]
    assert taken is not END_USER_NAME_ZH and str(taken.help_text) == HELP
    taken.help_text = "changed"
    taken.widget.attrs["lang"] = "xx"
    assert str(END_USER_NAME_ZH.help_text) == HELP
    assert END_USER_NAME_ZH.widget.attrs["lang"] == "zh-Hant"
    again = PartyForm(role="end_user").fields["name_zh"]
    assert str(again.help_text) == HELP and again.widget.attrs["lang"] == "zh-Hant"
    # The other roles keep the class's field, without the help.
    buyer = PartyForm(role="buyer")
    assert buyer.fields.read_only("name_zh") is PartyForm.base_fields["name_zh"]
    assert not buyer.fields["name_zh"].help_text


def test_a_bound_end_user_form_holds_its_own_copy():
    form = PartyForm({"end_user-name": "A"}, role="end_user")
    field = form.fields["name_zh"]
    assert field is not END_USER_NAME_ZH and str(field.help_text) == HELP
    field.help_text = "changed"
    assert str(END_USER_NAME_ZH.help_text) == HELP


def test_copies_buyer_reads_the_box_without_copying_it():
    for initial, copies in (({"same_as_buyer": True}, True), (None, False)):
        form = PartyForm(role="consignee", initial=initial)
        assert form.copies_buyer is copies
        assert form.fields.shared("same_as_buyer")
    bound = PartyForm({"consignee-same_as_buyer": "on"}, role="consignee")
    assert bound.copies_buyer is True


@pytest.mark.parametrize("form_class", [BasicDataForm, ShtcBasicDataForm])
def test_the_applicants_identifier_is_locked_once_per_class(form_class):
    own = form_class.base_fields["applicant_identifier"]
    form = form_class(user=APPLICANT_USER)
    locked = form.fields.read_only("applicant_identifier")
    assert form.fields.shared("applicant_identifier")
    assert locked.disabled and not own.disabled and locked is not own
    assert locked is form_class(user=APPLICANT_USER).fields.read_only("applicant_identifier")
    taken = form.fields["applicant_identifier"]
    assert taken is not locked and taken.disabled
    taken.disabled = False
    assert locked.disabled
    assert form_class(user=APPLICANT_USER).fields["applicant_identifier"].disabled
    # An agent types it (unless the applicant is fixed); a bound form holds its own copy.
    assert not form_class(user=AGENT_USER).fields["applicant_identifier"].disabled
    fixed = form_class(user=AGENT_USER, fixed_applicant="22099131")
    assert fixed.fields.read_only("applicant_identifier") is locked
    bound = form_class({}, user=APPLICANT_USER)
    assert bound.fields["applicant_identifier"].disabled
    assert bound.fields["applicant_identifier"] is not locked
    assert entry._locked_applicant(form_class) is locked


def test_put_field_and_read_field_on_a_bound_forms_dict():
    fields = {"name_zh": PartyForm.base_fields["name_zh"]}
    put_field(fields, "name_zh", END_USER_NAME_ZH)
    assert fields["name_zh"] is not END_USER_NAME_ZH
    assert str(fields["name_zh"].help_text) == HELP
    assert read_field(fields, "name_zh") is fields["name_zh"]
    copied = FieldsCopiedOnUse(PartyForm.base_fields)
    assert read_field(copied, "name") is PartyForm.base_fields["name"]
    assert copied.shared("name")


@pytest.mark.django_db
def test_the_drawings_key_keeps_a_put_fields_state_per_language():
    # The key reads a put field as a class's (never changed): its state kept per language,
    # the help drawn in each.
    for language, text in (("en", HELP), ("zh-hant", "中國大陸地區（CN）公司必填。"),
                           ("en", HELP)):
        with translation.override(language):
            for _ in range(2):
                html = drawn(PartyForm(role="end_user"))
                assert text in html
                assert (END_USER_NAME_ZH, "name_zh", language) in \
                    form_fields._CLASS_FIELD_STATES
                assert any(END_USER_NAME_ZH in dict(items).values()
                           for _class, _language, items in form_fields._UNTAKEN_FIELDS)
    # A form's own change to it is drawn, never kept as the class's.
    form = PartyForm(role="end_user")
    form.fields["name_zh"].help_text = "Own help"
    assert "Own help" in drawn(form)
    assert "Own help" not in drawn(PartyForm(role="end_user"))
