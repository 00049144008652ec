"""The trading parties of a case (SHTC-15): 買方 (buyer), 收貨人 (consignee) and 最終使用者
(end user), as `permits.models.Party` rows. A procedure names the roles its cases ask for
(Procedure.parties); the entry pages show one PartyForm per role (party_forms), the service
parties_save() writes them, and party_rows() shows them read-only on the case page.

Names and addresses are in English letters and digits, as printed on the end-use assurance
(SHTC-15); a mainland-China end user also gives its name in Traditional Chinese. "同買方資料"
makes the consignee (or end user) a copy of the buyer, copied by the service, not trusted
from the browser.

Error codes (tests look at these, never at the wording):

    not_english         name or address with characters other than English letters, digits,
                        spaces and the punctuation of company names and addresses
    no_letters          name or address without a letter or digit ("---")
    name_zh_required    end user in mainland China without a Chinese name
    not_chinese         a Chinese name without Chinese characters
    simplified_chinese  a Chinese name written with simplified characters (华 rather than 華)
    not_draft           parties changed on a case that is no longer a draft
"""

import copy
import re

from crispy_forms.layout import Div, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from permits import procedures
from permits.fields import CountryField, country_names, to_ascii
from permits.models import Application, Party, PartyRole, Status
from portal.forms import PortalForm, field_label, put_field, read_field
from portal.languages import per_language

# The fields a party copies from the buyer when "同買方資料" is ticked.
COPIED_FIELDS = ("name", "address", "country", "name_zh")
# The end user's country for which a Traditional Chinese name is also required (SHTC-15).
MAINLAND_CHINA = "CN"

# Company names: "Acme Co., Ltd.", "O'Neil & Sons (Asia) Pte. Ltd.", "A/S". Addresses also
# take '#' (Singapore unit numbers, #05-01) and ':'.
NAME_PUNCTUATION = ",.&()-'/"
ADDRESS_PUNCTUATION = NAME_PUNCTUATION + "#:"

ERRORS = {
    "not_english": _("Write this in English: letters A–Z, digits, spaces and %(punctuation)s "
                     "only. Not accepted: %(characters)s"),
    "no_letters": _("Enter at least one letter or digit."),
    "name_zh_required": _("An end user in mainland China also gives its name in Traditional "
                          "Chinese."),
    "not_chinese": _("Enter the name in Traditional Chinese characters."),
    "simplified_chinese": _("Enter the name in Traditional Chinese: %(characters)s are "
                            "simplified characters."),
    "not_draft": _("The parties can only be changed while the case is a draft."),
}

# Simplified-only characters frequent in mainland company names. Every one of them is absent
# from Big5 (checked by the tests), so none is a Traditional character a name may need: a
# name using them was typed in Simplified Chinese, which SHTC-15 does not accept.
SIMPLIFIED_ONLY = frozenset(
    "华为术电设备贸进发实业国际东广应产务动区门关开长汇车络讯软导联组维苏辽龙湾贵陕测"
    "试检验仪药医疗学质创资经营销达兴钢铁铝属运输飞舰弹无线时数码显视个们团处亚欧专两"
    "严丽乐书买乱亿从仓会伟传伤伦储兰养军农决况净减凤击则刚劳势勋协单卖卫历县叶号吴员"
    "响园圆围场块坚坛垦头夹夺奋奖妇娱孙宝审宽对层岁岛峡币师带帮庆库废张强归录总惯戏战"
    "户扩扬执护报拥择挥换损摄旧晋暂杂权条来杨枪标栏树样桥楼汉汤沟沪泽浅浊济浏涛润涨渐"
    "渔温湿灯灵灾热爱环现画畅监盘盖矿砖积称税稳穷竞笔简类红纤约级纪纯纳纸练细织终结给"
    "绝统继绩续综绿编缘罗职脑脚节艺萧蓝虑补装见观规览觉计订认讨让训议记讲许论访证评识"
    "诉诊词译诚话询该详语误说请诺读课谊谢货购贯贴费贺赛赵轨转轮轴轻载较辉辖边迁过还这"
    "远连迟选递逻遗邮邻郑释钱铜银链锁锋锦镇闭问闲间闻阀阅队阳阴陆陈险随隐难雾静韩页顶"
    "项顺须顾领频题额风饭馆马驱骏鱼鲁鸟鸿鹏黄齐"
)

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _english_text(value, *, punctuation):
    """The text as stored: full-width forms read as ASCII, runs of spaces made one. Raises
    ValidationError when any character is outside the English letters, digits, spaces and
    `punctuation` (SHTC-15), naming the characters."""
    value = " ".join(to_ascii(value).split())
    refused = "".join(dict.fromkeys(
        char for char in value
        if not (char.isascii() and (char.isalnum() or char == " " or char in punctuation))))
    if refused:
        raise ValidationError(ERRORS["not_english"], code="not_english", params={
            "punctuation": " ".join(punctuation), "characters": " ".join(refused)})
    if not any(char.isalnum() for char in value):
        raise ValidationError(ERRORS["no_letters"], code="no_letters")
    return value


class EnglishTextField(forms.CharField):
    """A name or address in English letters and digits (SHTC-15)."""

    def __init__(self, *, punctuation=NAME_PUNCTUATION, **kwargs):
        self.punctuation = punctuation
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values or "\x00" in value:
            return value  # a NUL byte: refused by the field's own validator
        return _english_text(value, punctuation=self.punctuation)


class ChineseNameField(forms.CharField):
    """A company's name in Traditional Chinese: Chinese characters (with the Latin letters,
    digits and brackets names carry), none of them simplified."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values or "\x00" in value:
            return value  # a NUL byte: refused by the field's own validator
        value = " ".join(str(value).split())
        if not _HAN_RE.search(value):
            raise ValidationError(ERRORS["not_chinese"], code="not_chinese")
        simplified = "".join(dict.fromkeys(c for c in value if c in SIMPLIFIED_ONLY))
        if simplified:
            raise ValidationError(ERRORS["simplified_chinese"], code="simplified_chinese",
                                  params={"characters": "、".join(simplified)})
        return value


def _label(name):
    return field_label(Party, name)


class PartyForm(PortalForm):
    """One party (買方 / 收貨人 / 最終使用者) of a case; the form's prefix is its role.

    With "同買方資料" ticked, the other fields are neither required nor checked: the buyer's
    data are copied in their place (party_forms shows them, parties_save stores them), and
    any mistake in them is the buyer form's to report.
    """

    # Unbound, its drawing is kept per state ({% form_fields %}: permits/templatetags/
    # form_fields.py, _kept_key).
    keep_drawing = True

    name = EnglishTextField(label=_label("name"), max_length=200)
    address = EnglishTextField(label=_label("address"), max_length=300,
                               punctuation=ADDRESS_PUNCTUATION)
    country = CountryField(label=_label("country"))
    name_zh = ChineseNameField(label=_label("name_zh"), max_length=120, required=False)
    same_as_buyer = forms.BooleanField(label=_label("same_as_buyer"), required=False)
    # The widgets' own attributes, on the class's fields (after the maxlength their fields
    # give them) rather than set in __init__: an unbound form then copies none of these
    # fields (portal.forms: fields copied on use, issue 10). parties.js hides the copied
    # fields while 同買方資料 is ticked; without it they stay visible and are ignored.
    for field in (name, address):
        field.widget.attrs.update(autocomplete="off", lang="en")
    name_zh.widget.attrs["lang"] = "zh-Hant"
    same_as_buyer.widget.attrs["data-same-as-buyer"] = ""
    del field

    def __init__(self, *args, role, with_buyer=True, **kwargs):
        kwargs.setdefault("prefix", role)
        super().__init__(*args, **kwargs)
        self.role = PartyRole(role)
        self.heading = self.role.label
        if self.role == PartyRole.END_USER:
            put_field(self.fields, "name_zh", END_USER_NAME_ZH)
        if self.role == PartyRole.BUYER or not with_buyer:
            del self.fields["same_as_buyer"]
            self.helper.layout = Layout(*COPIED_FIELDS)
        else:
            self.helper.layout = Layout(
                "same_as_buyer", Div(*COPIED_FIELDS, css_class="party-fields"))
        if self.copies_buyer:
            for name in COPIED_FIELDS:
                self.fields[name].required = False

    @property
    def copies_buyer(self):
        """Whether "同買方資料" is ticked (in the submitted data, or the stored party)."""
        if "same_as_buyer" not in self.fields:
            return False
        field = read_field(self.fields, "same_as_buyer")
        if self.is_bound:
            return bool(field.widget.value_from_datadict(self.data, self.files,
                                                         self.add_prefix("same_as_buyer")))
        return bool(self.get_initial_for_field(field, "same_as_buyer"))

    def add_error(self, field, error):
        # A copy of the buyer is checked as the buyer; its own inputs are ignored.
        if field in COPIED_FIELDS and self.copies_buyer:
            return
        super().add_error(field, error)

    def clean(self):
        cleaned_data = super().clean()
        if (self.role == PartyRole.END_USER and not self.copies_buyer
                and cleaned_data.get("country") == MAINLAND_CHINA
                and not cleaned_data.get("name_zh") and "name_zh" not in self.errors):
            self.add_error("name_zh", ValidationError(ERRORS["name_zh_required"],
                                                      code="name_zh_required"))
        return cleaned_data

    def party_data(self):
        """The cleaned party as {field: value} for parties_replace()."""
        if self.copies_buyer:
            return {"same_as_buyer": True}
        data = {name: self.cleaned_data.get(name) or "" for name in COPIED_FIELDS}
        data["same_as_buyer"] = False
        return data


# The end user's 中文名稱 with its help (SHTC-15), made once rather than set on each form's
# copy: an unbound form then copies it only when taken out (portal.forms.put_field, issue 10).
END_USER_NAME_ZH = copy.deepcopy(PartyForm.base_fields["name_zh"])
END_USER_NAME_ZH.help_text = _("Required for a company in mainland China (CN).")


def _roles(procedure_or_roles):
    if isinstance(procedure_or_roles, procedures.Procedure):
        roles = procedure_or_roles.parties
    else:
        roles = procedure_or_roles
    return [PartyRole(role) for role in roles]


def party_forms(procedure_or_roles, *, data=None, application=None):
    """One PartyForm per role the procedure asks for (Procedure.parties), in its order, bound
    to `data` when given, else showing the case's stored parties.

    In bound forms with "同買方資料" ticked, the buyer's submitted values are shown in place
    of the party's own, so the page again shows what will be stored."""
    roles = _roles(procedure_or_roles)
    with_buyer = PartyRole.BUYER in roles
    stored = parties_of(application) if application is not None and application.pk else {}
    if data is not None and with_buyer:
        data = data.copy()  # a request's QueryDict is immutable
        for role in roles:
            box = f"{role}-same_as_buyer"
            if role != PartyRole.BUYER and forms.CheckboxInput().value_from_datadict(
                    data, {}, box):
                for name in COPIED_FIELDS:
                    data[f"{role}-{name}"] = data.get(f"{PartyRole.BUYER}-{name}", "")
    result = []
    for role in roles:
        party = stored.get(role)
        initial = ({name: getattr(party, name) for name in (*COPIED_FIELDS, "same_as_buyer")}
                   if party else None)
        result.append(PartyForm(data, role=role, with_buyer=with_buyer, initial=initial))
    return result


def party_forms_valid(forms_):
    """Every form valid; a party copying the buyer needs a valid buyer, and an end user
    copying a buyer in mainland China needs the buyer's Chinese name (SHTC-15), reported on
    the buyer's field, where it is typed."""
    # Every form is cleaned, not only up to the first invalid one: each shows its errors.
    results = [form.is_valid() for form in forms_]
    valid = all(results)
    buyer = next((form for form in forms_ if form.role == PartyRole.BUYER), None)
    copying = [form for form in forms_ if form.copies_buyer]
    if copying and (buyer is None or not buyer.is_valid()):
        return False
    for form in copying:
        if (form.role == PartyRole.END_USER
                and buyer.cleaned_data.get("country") == MAINLAND_CHINA
                and not buyer.cleaned_data.get("name_zh")):
            buyer.add_error("name_zh", ValidationError(ERRORS["name_zh_required"],
                                                       code="name_zh_required"))
            valid = False
    return valid


@transaction.atomic
def parties_replace(*, application, parties):
    """Store the case's parties from plain data: {role: {name, address, country, name_zh,
    same_as_buyer}}. A party with same_as_buyer gets the buyer's data; a role left out is
    deleted. The case must be a draft, as for its items. Returns {role: Party}."""
    # Lock the case so two saves of the same draft leave one consistent set of parties.
    app = Application.objects.select_for_update().get(pk=application.pk)
    if app.status != Status.DRAFT:
        raise ValidationError(ERRORS["not_draft"], code="not_draft")
    buyer = parties.get(PartyRole.BUYER)
    saved = {}
    for role, data in parties.items():
        role = PartyRole(role)
        same = bool(data.get("same_as_buyer")) and role != PartyRole.BUYER
        if same and buyer is None:
            raise ValueError(f"{role} copies a buyer the case does not have")
        source = buyer if same else data
        values = {name: source.get(name) or "" for name in COPIED_FIELDS}
        party = Party(application=app, role=role, same_as_buyer=same, **values)
        # The columns' own limits, whoever calls (an import, a copy for an amendment).
        party.full_clean(validate_unique=False, validate_constraints=False)
        saved[role], _created = Party.objects.update_or_create(
            application=app, role=role, defaults={**values, "same_as_buyer": same})
    app.parties.exclude(role__in=list(saved)).delete()
    return saved


def parties_save(*, application, forms):
    """Store the parties of valid PartyForms (party_forms_valid) on the case: one Party per
    role, a copy of the buyer where "同買方資料" is ticked; roles without a form are
    deleted."""
    return parties_replace(application=application,
                           parties={form.role: form.party_data() for form in forms})


def parties_of(application):
    """{role: Party} of the case (uses a prefetched `parties` if there is one)."""
    return {PartyRole(party.role): party for party in application.parties.all()}


# party_rows' words in the language in force, made once a language: its headings and labels
# are lazy texts, each a gettext when cast (a dozen a case page).
_row_words = per_language(lambda: (
    {role: str(role.label) for role in PartyRole},
    {name: str(_label(name)) for name in (*COPIED_FIELDS, "same_as_buyer")},
    _t("Yes")))


def party_rows(application):
    """The case's parties for a read-only page: [(role label, [(field label, value)])], in
    the procedure's order (then any other stored role)."""
    stored = parties_of(application)
    if not stored:
        return []
    order = [*_roles(procedures.get(application.document_type)),
             *(role for role in PartyRole if role in stored)]
    names = country_names({p.country for p in stored.values()})
    headings, labels, yes = _row_words()
    rows = []
    for role in dict.fromkeys(order):
        party = stored.get(role)
        if party is None:
            continue
        fields = [(labels["name"], party.name), (labels["address"], party.address),
                  (labels["country"], f"{party.country} {names[party.country]}"
                   if party.country in names else party.country)]
        if party.name_zh:
            fields.append((labels["name_zh"], party.name_zh))
        if party.same_as_buyer:
            fields.append((labels["same_as_buyer"], yes))
        rows.append((headings[role], fields))
    return rows
