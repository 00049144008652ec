import pytest


@pytest.fixture
def permit(make_case, applicant, reviewer):
    """An approved SHTC export permit of `applicant`: item 1, 10 PCE at USD 1500, TW origin,
    tariff code 85423100003, valid six months from today, partial shipments allowed."""
    return make_case(applicant, status="approved", reviewer=reviewer).issued_version.permit


@pytest.fixture
def receive(django_capture_on_commit_callbacks):
    """services.receive with what it queues after commit (the matching) run at once."""
    from reconciliation import services

    def run(*messages):
        with django_capture_on_commit_callbacks(execute=True):
            return services.receive(list(messages), source="test")

    return run


@pytest.fixture
def customs(db):
    """A customs service account and its token (what the bureau hands customs once)."""
    from reconciliation.models import CustomsClient

    account = CustomsClient(name="關務署")
    token = account.new_token()
    account.save()
    account.token = token
    return account
