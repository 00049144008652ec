"""Who has which case, and by when its stage is due (issue 14, point 1: the reviewers' queues).

Application.assignee is the reviewer a case is assigned to (None: 待分派); assigning writes a
ReviewEvent (kind "assigned") in the bureau's own history. Application.stage_due is the
working-day date by which the stage the case is in should end (permits.workdays.clock()'s
due date), kept here so that the 逾期 queue is an indexed comparison with today rather than
a clock run over every case: transition() sets it at every move (stage_due_after_move), and
a change of the calendar's adjustments or of the targets sets it again for every case in
the bureau's hands (refresh_stage_due, by the signals at the end).

Rules of assignment (checked under the case's row lock, at commit):
- a case is assigned while the bureau has work on it, in review or with the applicant for
  補件 (OPEN); a draft, a registered assurance or a closed case is not;
- a reviewer may take a case nobody has; taking a colleague's case, giving a case to a
  colleague and putting it back to 待分派 need permits.assign_application (supervisors).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from permits import workdays, workflow
from permits.models import (
    QUEUE_STATUSES,
    Application,
    ReviewEvent,
    ReviewEventKind,
    ReviewTarget,
    Status,
    WorkdayAdjustment,
)
from portal.accounts.models import REVIEWERS_GROUP, User

# The statuses in which a case may be assigned and stays in its assignee's 我的案件: the
# bureau's review, and 補件 (the same reviewer takes the case up again when it returns). A
# case under review never goes back to a draft or 登錄中, so an assigned case that is not
# closed is in one of these (the queues' partial index, migration 0013, is over them).
OPEN = frozenset(QUEUE_STATUSES)
assert set(OPEN) == workflow.UNDER_REVIEW | {Status.SUPPLEMENT}
ASSIGN_PERMISSION = "permits.assign_application"
# The cases read and written at once when the rules change (refresh_stage_due).
BATCH = 1000


# --- stage_due -----------------------------------------------------------------------------


def stage_due(*, status, document_type, history, rules):
    """The due date of the stage a case in `status` is in (workdays.clock()'s, from its
    status history `history`, oldest first), or None: not in the bureau's hands (補件, before
    submission, closed), or no target for the stage. The due date does not depend on the
    day it is computed: the days of the last span are counted from its start."""
    return workdays.clock(status=status, document_type=document_type, history=history,
                          rules=rules).due


def stage_due_after_move(app):
    """stage_due of `app` just moved (its new StatusChange written), for transition(): no
    query for a status of no stage, one for the rules, and one for the history if its stage
    has a target."""
    stage = workdays.STAGE_OF.get(app.status)
    if stage is None:
        return None
    rules = workdays.load_rules([app.document_type])
    if rules.target(app.document_type, stage) is None:
        return None
    history = workdays.histories([app.pk]).get(app.pk, ())
    return stage_due(status=app.status, document_type=app.document_type, history=history,
                     rules=rules)


@transaction.atomic
def refresh_stage_due():
    """Compute stage_due again for every case in the bureau's hands that has or may have one
    (its procedure sets a target, or it has a due date to clear), a thousand at a time: each
    batch locked (in the order of their keys, as transition() locks one), its history read
    in one query, the changed dates written in one. Returns how many changed."""
    rules = workdays.load_rules()
    with_targets = sorted({document_type for document_type, _stage in rules.targets})
    cases = Application.objects.filter(
        Q(document_type__in=with_targets) | Q(stage_due__isnull=False),
        status__in=sorted(workflow.UNDER_REVIEW)).order_by("pk")
    changed, last = 0, 0
    while True:
        # Locked: a move at the same moment sets the date from the rules it read; this one
        # waits for it, or it waits for this one, and the later writes the rules' date.
        batch = list(cases.filter(pk__gt=last).select_for_update().only(
            "pk", "status", "document_type", "stage_due")[:BATCH])
        if not batch:
            return changed
        last = batch[-1].pk
        history = workdays.histories([case.pk for case in batch])
        dirty = []
        for case in batch:
            due = stage_due(status=case.status, document_type=case.document_type,
                            history=history.get(case.pk, ()), rules=rules)
            if due != case.stage_due:
                case.stage_due = due
                dirty.append(case)
        if dirty:
            Application.objects.bulk_update(dirty, ["stage_due"])
            changed += len(dirty)


@receiver(post_save, sender=WorkdayAdjustment, dispatch_uid="stage_due_adjustment_saved")
@receiver(post_delete, sender=WorkdayAdjustment, dispatch_uid="stage_due_adjustment_deleted")
@receiver(post_save, sender=ReviewTarget, dispatch_uid="stage_due_target_saved")
@receiver(post_delete, sender=ReviewTarget, dispatch_uid="stage_due_target_deleted")
def _rules_changed(*, raw=False, **kwargs):
    """A 補班, a typhoon day off or a target moves the due date of the cases under review:
    in the same transaction as the change, so that the queues never show the old one."""
    if not raw:  # (not while loading fixtures)
        refresh_stage_due()


# --- Assignment ----------------------------------------------------------------------------


class AssignmentRefused(workflow.TransitionNotAllowed):
    """An assignment the rules do not allow now; its message is for the user (the admin
    shows it), with a code, as a refused move's."""


def reviewers():
    """The active reviewers a case can be given to (staff in the reviewers group)."""
    return User.objects.filter(is_active=True, is_staff=True,
                               groups__name=REVIEWERS_GROUP).order_by("name", "pk")


def may_assign_others(user):
    return user.has_perm(ASSIGN_PERMISSION)


def may_take(user, case):
    """Whether `user` (a reviewer) may assign `case` to themselves: nobody has it, or they
    may take it from a colleague."""
    return case.status in OPEN and case.assignee_id != user.pk and (
        case.assignee_id is None or may_assign_others(user))


@transaction.atomic
def application_assign(*, application, assignee, actor, seen=None):
    """Give `application` to the reviewer `assignee` (None: back to 待分派), as `actor`, and
    record it (ReviewEvent kind "assigned"). `seen`: the assignee's id the actor's page
    showed (0: nobody), if it says one: a case assigned meanwhile is not taken over unseen.
    Raises AssignmentRefused, or PermissionDenied for an actor who is no reviewer.

    The row is locked and the rules checked again under the lock: two reviewers taking the
    same case at once both saw it unassigned; the second waits for the first's commit, then
    finds it taken and is refused (unless a supervisor, who then took it knowingly only if
    `seen` says so)."""
    if not actor.is_reviewer:
        raise PermissionDenied(_("Only reviewers handle cases."))
    app = Application.objects.select_for_update().get(pk=application.pk)
    if app.status in workflow.CLOSED:
        raise AssignmentRefused(_("This case is closed: it cannot be assigned."), "closed")
    if app.status not in OPEN:
        raise AssignmentRefused(_("Only a case the bureau has received can be assigned."),
                                "not_received")
    if seen is not None and (app.assignee_id or 0) != seen:
        raise AssignmentRefused(_("The case was assigned meanwhile: look at it again."),
                                "changed")
    assignee_id = assignee.pk if assignee is not None else None
    if assignee_id == app.assignee_id:
        raise AssignmentRefused(_("The case is already assigned to this reviewer.")
                                if assignee_id else _("The case is not assigned."),
                                "unchanged")
    supervisor = may_assign_others(actor)
    if assignee_id != actor.pk and not supervisor:
        raise AssignmentRefused(_("Only a supervisor assigns cases to others or puts them "
                                  "back."), "permission")
    if app.assignee_id is not None and not supervisor:
        raise AssignmentRefused(_("A colleague has this case: only a supervisor can "
                                  "reassign it."), "taken")
    if assignee is not None and not reviewers().filter(pk=assignee_id).exists():
        raise AssignmentRefused(_("Choose an active reviewer."), "not_reviewer")
    app.assignee = assignee
    app.save(update_fields=["assignee", "updated_at"])
    ReviewEvent.objects.create(application=app, kind=ReviewEventKind.ASSIGNED, actor=actor,
                               assignee=assignee)
    return app
