import pytest


@pytest.fixture
def django_form(monkeypatch):
    """`draw(client, url)`: Django's change form of a case instead of the reviewers' own page
    (permits.admin_case), the way ApplicationAdmin.change_view goes where case_page()
    declines: what the own page is compared with (tests/permits/test_admin_case.py), and
    where the formsets and read-only tables it replaces are still drawn."""
    from permits import admin_case

    def draw(client, url):
        with monkeypatch.context() as patch:
            patch.setattr(admin_case, "case_page", lambda *args, **kwargs: None)
            response = client.get(url)
        assert "adminform" in response.context
        return response

    return draw
