"""准件結案 as the bureau makes it in tests (issue 14, point 3, four eyes): where the case's
procedure wants four eyes (SHTC), the reviewer who took the case through 初審 moves it to
複審中 and a second reviewer of the senior reviewers group approves it; elsewhere (masks,
the framework's own document types) the reviewer approves it."""

from django.contrib.auth.models import Group

from permits import procedures, workflow
from permits.models import Status
from portal.accounts.models import (
    REVIEWERS_GROUP,
    SENIOR_REVIEWERS_GROUP,
    IdentifierType,
    User,
)

SECOND_REVIEWER = "R223456785"  # a valid 身分證字號 no other test uses
SECOND_REVIEWER_PASSWORD = "correct-horse-battery"


def senior(user):
    """`user`, now also in the senior reviewers group (permits.approve_application)."""
    user.groups.add(Group.objects.get_or_create(name=SENIOR_REVIEWERS_GROUP)[0])
    return User.objects.get(pk=user.pk)  # without the cached permissions


def bureau_reviewer(identifier, name):
    """A reviewer (staff, the reviewers group) with the 身分證字號 `identifier`."""
    user = User.objects.filter(identifier=identifier).first()
    if user is None:
        user = User.objects.create_user(
            identifier, SECOND_REVIEWER_PASSWORD, identifier_type=IdentifierType.NATIONAL_ID,
            is_staff=True, name=name, address="臺北市中正區湖口街1號", contact_person=name,
            phone="02-2351-0001", email=f"{identifier.lower()}@example.com")
        user.groups.add(Group.objects.get_or_create(name=REVIEWERS_GROUP)[0])
    return user


def second_reviewer():
    """A second bureau reviewer, in the reviewers and the senior reviewers groups."""
    return senior(bureau_reviewer(SECOND_REVIEWER, "貿易局複審員"))


def to_second_review(application, reviewer):
    """`application` taken by `reviewer` from 初審 to 複審中 where four eyes applies (so that a
    test can then watch the approval alone); as it is otherwise."""
    if procedures.get(application.document_type).four_eyes:
        application.refresh_from_db(fields=["status"])
        if application.status in workflow.FIRST_REVIEW:
            return workflow.transition(application=application, to=Status.SECOND_REVIEW,
                                       actor=reviewer)
    return application


def approve(application, reviewer, *, note="", approver=None):
    """Approve `application` (in 初審中, 退回初審 or 複審中) as the bureau does: through 複審中,
    by a second senior reviewer (`approver`, default second_reviewer()), where four eyes
    applies. Returns the approved case."""
    if not procedures.get(application.document_type).four_eyes:
        return workflow.transition(application=application, to=Status.APPROVED,
                                   actor=reviewer, note=note)
    application = to_second_review(application, reviewer)
    return workflow.transition(application=application, to=Status.APPROVED,
                               actor=approver or second_reviewer(), note=note)
