"""The reviewers' search's probe (permits.admin._probed, issue 10): what it says for words
whose branches find the same cases or none, at every threshold FEW_FOUND, is what each
branch's cases read one by one say, however the probe counts them (bench/README.md, Stop 26
(search probe): a branch that finds many says so without its cases being grouped)."""

import pytest

from permits import admin as permits_admin
from permits.models import Application
from tests.permits.test_admin_list import cases  # noqa: F401 (fixture)
from tests.permits.test_admin_list_written import busy  # noqa: F401 (fixture)
from tests.services import require_postgres

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# "7701": three cases, one found by its applicant's identifier, its agent's and its name;
# "77012345": a whole identifier (found by it alone), "7701234": a beginning with a longer
# identifier; "770123": two identifiers and a name; the bench words; words that find none.
WORDS = ["7701", "77012345", "7701234", "770123", "77012", "甲77012", "22099131", "2209",
         "04595252", "醫材股份", "RSE", "nothing-like-it", "99999999"]


@pytest.fixture
def shared(busy, other_applicant, make_case):  # noqa: F811
    """Cases that several branches of a word find (see WORDS)."""
    made = [make_case(other_applicant) for _ in range(3)]
    for case, (applicant, agent, name) in zip(made, [
            ("77012345", "77012399", "甲77012公司"), ("770123456", "", "乙公司"),
            ("55555555", "77012000", "丙公司")], strict=True):
        Application.objects.filter(pk=case.pk).update(
            applicant_identifier=applicant, agent_identifier=agent, applicant_name=name)
    return made


def expected(word, few):
    """_probed(word) with FEW_FOUND `few`, from each branch's cases read alone."""
    branches = permits_admin.search_branches(word)
    found = [set(permits_admin.case_matches(word, branches=[branch])) for branch in branches]
    every = set().union(*found)
    if len(every) <= few:
        return every, None
    code = permits_admin.normalize(word)
    longer = Application.objects.filter(applicant_identifier__startswith=code).exclude(
        applicant_identifier=code).exists()
    return None, [{"applicant_identifier": code}
                  if "applicant_identifier__startswith" in branch and not longer else branch
                  for branch, ids in zip(branches, found, strict=True) if ids]


@pytest.mark.parametrize("few", [0, 1, 2, 3, 5, 1000])
def test_the_probe_says_what_each_branch_says(shared, monkeypatch, few):
    require_postgres()
    monkeypatch.setattr(permits_admin, "FEW_FOUND", few)
    for word in WORDS:
        want = expected(word, few)
        for _run in range(7):  # planned with the word, then (digits) by the plan kept
            found, branches = permits_admin._probed(word)  # noqa: SLF001
            if found is not None:
                assert len(found) == len(set(found)), word  # each case once
                found = set(found)
            assert (found, branches) == want, (word, few)


def test_a_case_of_three_branches_counts_once(shared, monkeypatch):
    require_postgres()
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 3)  # 3 cases, 5 rows
    found, branches = permits_admin._probed("7701")  # noqa: SLF001
    assert branches is None and sorted(found) == sorted(case.pk for case in shared)
    monkeypatch.setattr(permits_admin, "FEW_FOUND", 2)  # no branch finds more than 2
    assert permits_admin._probed("7701") == (None, [  # noqa: SLF001
        {"applicant_identifier__startswith": "7701"}, {"agent_identifier__startswith": "7701"},
        {"applicant_name__icontains": "7701"}])
