"""暫存資料 (PERMIT-6): the last case per user and document type; 匯入暫存資料 and 復原."""

import pytest
from django import forms
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from django.views.generic import FormView

from permits import services
from permits.drafts import DraftFormMixin
from permits.models import DocumentType, Draft
from portal.forms import RocDateField


class BasicDataForm(forms.Form):
    applicant_name = forms.CharField()
    import_date = RocDateField(required=False)


class BasicDataView(DraftFormMixin, FormView):
    form_class = BasicDataForm
    draft_document_type = DocumentType.MASK_IMPORT
    template_name = "permits/query.html"  # any template: the tests read the context
    initial = {"applicant_name": "預設名稱"}

    def form_valid(self, form):
        self.save_draft(form)  # "下一步"
        return self.render_to_response(self.get_context_data(form=form))


def post(user, data):
    request = RequestFactory().post("/", data)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return BasicDataView.as_view()(request)


@pytest.mark.django_db
def test_it_keeps_only_the_last_case_per_document_type(applicant):
    services.draft_save(user=applicant, document_type="MK", data={"n": 1})
    services.draft_save(user=applicant, document_type="MK", data={"n": 2})
    services.draft_save(user=applicant, document_type="SE", data={"n": 3})
    assert services.draft_load(user=applicant, document_type="MK") == {"n": 2}
    assert Draft.objects.filter(user=applicant).count() == 2


@pytest.mark.django_db
def test_it_keeps_drafts_apart_between_users(applicant, other_applicant):
    services.draft_save(user=applicant, document_type="MK", data={"n": 1})
    assert services.draft_load(user=other_applicant, document_type="MK") is None


@pytest.mark.django_db
def test_it_saves_on_next_and_brings_the_draft_back(applicant):
    post(applicant, {"applicant_name": "安心醫材", "import_date": "109/09/12"})
    assert Draft.objects.get(user=applicant).data == {"applicant_name": "安心醫材",
                                                      "import_date": "2020-09-12"}
    response = post(applicant, {"draft_action": "import_draft"})
    form = response.context_data["form"]
    assert not form.is_bound and form.initial["applicant_name"] == "安心醫材"
    assert 'value="109/09/12"' in str(form["import_date"])


@pytest.mark.django_db
def test_it_keeps_the_initial_form_when_there_is_no_draft(applicant):
    response = post(applicant, {"draft_action": "import_draft"})
    form = response.context_data["form"]
    assert not form.is_bound and form.initial == {"applicant_name": "預設名稱"}


@pytest.mark.django_db
def test_it_resets_the_form_to_its_initial_values(applicant):
    response = post(applicant, {"draft_action": "reset", "applicant_name": "打錯的名字"})
    form = response.context_data["form"]
    assert not form.is_bound and form.initial == {"applicant_name": "預設名稱"}
