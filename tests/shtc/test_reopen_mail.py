"""開放權限 (SHTC-6; the SHTC manual §1.1.2 步驟4): the bureau reopening a registered 9-2-1
assurance (登錄中 → 暫存) mails the applicant through the outbox, like every other move, in
the applicant account's language, with the bureau's note and what to do next."""

import pytest
from django.core import mail

from permits.models import OutboundEmail
from tests.shtc.test_iran_assurance import register, reopen

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language, words", [
    ("en", ["was reopened for changes", "reopened your case", "Note from the bureau",
            "correct it in 9-2-1"]),
    ("zh-hant", ["國際貿易局已開放本最終用途保證書之修正權限", "貿易局說明"]),
])
def test_the_reopening_is_mailed_in_the_holders_language(applicant, reviewer, language,
                                                          words, client,
                                                          django_capture_on_commit_callbacks):
    applicant.language = language
    applicant.save(update_fields=["language"])
    client.force_login(applicant)
    case = register(client)
    before = OutboundEmail.objects.filter(application=case).count()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        reopen(reviewer, case, note="申請人來電：更正最終使用者地址。")

    rows = OutboundEmail.objects.filter(application=case).order_by("pk")[before:]
    assert len(rows) == 1
    [row] = rows
    assert row.to == case.company_email and case.registration_no in row.subject
    text = row.subject + row.body
    for word in words:
        assert word in text, (word, text)
    assert "申請人來電：更正最終使用者地址。" in row.body
    # Sent after commit through the outbox's task, as status mail is.
    assert [m.subject for m in mail.outbox] == [row.subject]
