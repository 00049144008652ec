"""Statuses and the moves between them (PERMIT-5, STYLE.md "Status changes").

TRANSITIONS is the whole table: for each status, the statuses a case may move to and who
may make the move. transition() is the only code that assigns Application.status.

    暫存 draft ─┬─ 登錄 (SHTC-1, SHTC-6) ──────────→ 登錄中 registered ─┐
               ├─ 申請 (reviewed procedures) ──────────────────────────┴→ 初審中 initial review
               ├─ 申請 (masks: issued at once, MASK-3) ───────────────────→ 准件結案 approved
               └─ 取消 ────────────────────────────────────────────────→ 已取消 cancelled
    登錄中 ── 取消申請 (applicant, SHTC-12; not for Iran/North Korea, SHTC-6) → 已取消
    登錄中 ── 開放權限 (bureau, with a note; an Iran/North Korea assurance only, SHTC-6) → 暫存
    初審中 / 退回初審 ── bureau → 協查中, 複審中, 補件, 補正結案, 退件結案, 准件結案, 已取消
                        (准件結案 not where the procedure wants four eyes: see FIRST_REVIEW)
    協查中 ── bureau → 複審中, 退回初審, 補件, 退件結案, 已取消
    複審中 ── bureau → 准件結案, 退件結案, 退回初審, 補正結案, 協查中, 補件, 已取消
    補件 ── applicant resubmits (FAQ 3.3) → 初審中; bureau → 退件結案, 已取消
    補正結案, 退件結案, 准件結案, 已取消: closed; a change is a new case (PERMIT-2, SHTC-8).

Why the bureau may cancel a case under review (in any of its review statuses, and in 補件):
the applicant asks by phone (SHTC-12, FAQ 3.13); the reviewer's note, required, says so.

Why the bureau moves a registered case back to 暫存 (開放權限): once its 登錄編號 is given, an
end-use assurance for Iran or North Korea is locked, and only the bureau reopens it, at the
applicant's call (SHTC-6, the SHTC manual §1.1.2 步驟4); the reviewer's note, required, says
why. *decision*: a move of this table, not a flag beside the status: the reopened assurance
is entered again exactly as a draft is (permits.entry locks and checks 暫存 at every step),
the reopening and the new registration are in the status history with who and why, and the
登錄編號 stays (transition() gives one only to a case without). The SHTC procedure offers and
allows the move for a 9-2-1 assurance only (Procedure.offers_move, check_transition: shtc/
iran.py); such an assurance is never cancelled, by anyone (FAQ 3.13 (2)).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permits.models import Application, Status

APPLICANT = "applicant"  # the case's applicant or the agent who filed it
BUREAU = "bureau"  # a reviewer (staff in the reviewers group)
SYSTEM = "system"  # the portal itself, e.g. the immediate issue of a mask permit

S = Status
_REVIEW_MOVES = {
    S.CONSULTATION: BUREAU, S.SECOND_REVIEW: BUREAU, S.SUPPLEMENT: BUREAU,
    S.AMENDMENT_CLOSED: BUREAU, S.REJECTED: BUREAU, S.APPROVED: BUREAU, S.CANCELLED: BUREAU,
}
TRANSITIONS = {
    S.DRAFT: {S.REGISTERED: APPLICANT, S.INITIAL_REVIEW: APPLICANT, S.APPROVED: SYSTEM,
              S.CANCELLED: APPLICANT},
    S.REGISTERED: {S.INITIAL_REVIEW: APPLICANT, S.CANCELLED: APPLICANT, S.DRAFT: BUREAU},
    S.INITIAL_REVIEW: dict(_REVIEW_MOVES),
    S.RETURNED: dict(_REVIEW_MOVES),
    S.CONSULTATION: {S.SECOND_REVIEW: BUREAU, S.RETURNED: BUREAU, S.SUPPLEMENT: BUREAU,
                     S.REJECTED: BUREAU, S.CANCELLED: BUREAU},
    S.SECOND_REVIEW: {S.APPROVED: BUREAU, S.REJECTED: BUREAU, S.RETURNED: BUREAU,
                      S.AMENDMENT_CLOSED: BUREAU, S.CONSULTATION: BUREAU,
                      S.SUPPLEMENT: BUREAU, S.CANCELLED: BUREAU},
    S.SUPPLEMENT: {S.INITIAL_REVIEW: APPLICANT, S.REJECTED: BUREAU, S.CANCELLED: BUREAU},
    S.AMENDMENT_CLOSED: {},
    S.REJECTED: {},
    S.APPROVED: {},
    S.CANCELLED: {},
}

# What each status means, for the reviewers' page that shows this table (admin).
MEANING = {
    S.DRAFT: _("Being entered by the applicant; saved, not sent."),
    S.REGISTERED: _("End-use assurance registered (登錄編號 given); the applicant uploads the "
                    "documents and submits, or cancels (SHTC-4, SHTC-12). One for Iran or "
                    "North Korea is locked: filed in 9-2-2, never cancelled, reopened only by "
                    "the bureau (SHTC-6)."),
    S.INITIAL_REVIEW: _("Submitted (收件編號 given); the bureau's initial review, 3 to 7 "
                        "working days (SHTC-13)."),
    S.CONSULTATION: _("Sent to other agencies (協查): Iran, North Korea or doubtful cases, "
                      "25 to 30 working days (SHTC-13)."),
    S.SECOND_REVIEW: _("Second review before the decision."),
    S.SUPPLEMENT: _("Documents missing: the applicant is told what to supply, uploads it and "
                    "resubmits, which returns the case to initial review (FAQ 3.3)."),
    S.RETURNED: _("Sent back from consultation or second review to the initial reviewer."),
    S.AMENDMENT_CLOSED: _("Closed so that the applicant files an amendment (補正) as a new "
                          "case (SHTC-8)."),
    S.REJECTED: _("Closed: rejected, with the reason."),
    S.APPROVED: _("Closed: approved; the permit number and its validity are issued."),
    S.CANCELLED: _("Closed: cancelled by the applicant while registering, or by the bureau "
                   "at the applicant's request (SHTC-12)."),
}
WHO = {APPLICANT: _("applicant or filing agent"), BUREAU: _("reviewer"),
       SYSTEM: _("the portal (immediate issue)")}

# The statuses in which the bureau has the case; the applicant waits.
UNDER_REVIEW = {S.INITIAL_REVIEW, S.RETURNED, S.CONSULTATION, S.SECOND_REVIEW}
CLOSED = {S.AMENDMENT_CLOSED, S.REJECTED, S.APPROVED, S.CANCELLED}
# Moves that need a note: the applicant must learn what to supply, or why.
NOTE_REQUIRED = {S.SUPPLEMENT, S.REJECTED, S.AMENDMENT_CLOSED, S.RETURNED}
# The bureau's cancellation is made at the applicant's request (SHTC-12): its note records
# it. The applicant's own 取消申請 (登錄中, 9-1-2) needs none. So is its reopening of a
# registered assurance (開放權限, SHTC-6).
BUREAU_NOTE_REQUIRED = {S.CANCELLED, S.DRAFT}
# The admin's words for a move whose new status does not say what it does.
MOVE_LABELS = {(S.REGISTERED, S.DRAFT): _("Reopen for changes")}  # 開放權限


def move_label(old, to):
    """The button of the move from `old` to `to` in the reviewer's admin."""
    return MOVE_LABELS.get((Status(old), Status(to)), Status(to).label)


def note_required(to, who):
    """Whether the move to `to` made by `who` (APPLICANT, BUREAU, SYSTEM) needs a note."""
    return to in NOTE_REQUIRED or (who == BUREAU and to in BUREAU_NOTE_REQUIRED)


def cancelled_by_bureau_only(status):
    """Whether a case in `status` can be cancelled, and only by the bureau: the applicant
    asks it by phone (SHTC-12, FAQ 3.13 (2))."""
    return TRANSITIONS[Status(status)].get(S.CANCELLED) == BUREAU


class TransitionNotAllowed(Exception):
    """A move that the table, the actor or the procedure does not allow. Its message is
    meant for the user (views and the admin show it)."""

    def __init__(self, message, code):
        super().__init__(str(message))
        self.message = message
        self.code = code


# Four eyes (issue 14, point 3): where a procedure asks for it (Procedure.four_eyes), the
# bureau's 准件結案 is made in 複審中, never straight from 初審, by a reviewer holding this
# permission (the senior reviewers group, not the reviewers group) who did not take the case
# through 初審: who made a move out of one of these statuses (StatusChange.old).
FIRST_REVIEW = (S.INITIAL_REVIEW, S.RETURNED)
APPROVE_PERMISSION = "permits.approve_application"


def four_eyes_first(application, to):
    """Whether four eyes keeps the bureau's move `to` out of the case's present status: its
    procedure wants four eyes and the case is in 初審 (approval waits for 複審中)."""
    from permits import procedures

    return (to == S.APPROVED and application.status in FIRST_REVIEW
            and procedures.get(application.document_type).four_eyes)


def four_eyes_problem(application, to, actor, history=None):
    """Why four eyes refuses `actor`'s (a reviewer's) move of `application` to `to`, or
    None: always None but for 准件結案 of a case whose procedure wants four eyes. `history`:
    the case's StatusChange rows where the caller has read them (the admin's case page: no
    query); otherwise one query."""
    from permits import procedures

    if to != S.APPROVED or not procedures.get(application.document_type).four_eyes:
        return None
    words = {"approved": S.APPROVED.label, "second": S.SECOND_REVIEW.label}
    if application.status in FIRST_REVIEW:
        return _("“%(approved)s” needs a second reviewer: it is decided in "
                 "“%(second)s”.") % words
    if actor is None or not actor.has_perm(APPROVE_PERMISSION):
        return _("“%(approved)s” needs a second reviewer with the permission to "
                 "approve.") % words
    if history is None:
        took = application.status_changes.filter(old__in=FIRST_REVIEW, actor=actor).exists()
    else:
        took = any(change.old in FIRST_REVIEW and change.actor_id == actor.pk
                   for change in history)
    if took:
        return _("“%(approved)s” needs a second reviewer: you took this case through the "
                 "initial review.") % words
    return None


def allowed_moves(application, actor_kind):
    """The statuses `actor_kind` may move the case to now (buttons in the admin), as far as
    the table, four eyes (four_eyes_first) and the case's procedure (Procedure.offers_move)
    say. Who the reviewer is (four_eyes_problem) the admin asks apart."""
    from permits import procedures

    procedure = procedures.get(application.document_type)
    return [to for to, who in TRANSITIONS[application.status].items()
            if who == actor_kind and not (who == BUREAU and four_eyes_first(application, to))
            and procedure.offers_move(application, to)]


def actor_kind_of(user, application):
    if user is None:
        return SYSTEM
    if user.is_reviewer:
        return BUREAU
    if user.pk in (application.applicant_id, application.agent_id):
        return APPLICANT
    return None


@transaction.atomic
def transition(*, application, to, actor, note="", system=False):
    """Move `application` to `to` and record who did it; queue the status e-mail.

    The only code that assigns `status`. The row is locked first, so two reviewers
    clicking at once cannot both move the case from the same status: the second sees the
    status the first left and is refused if the table does not allow the move from there.
    Returns the updated application.
    """
    from permits import assignment, notifications, procedures, services

    app = Application.objects.select_for_update().get(pk=application.pk)
    to = Status(to)
    who = TRANSITIONS[app.status].get(to)
    if who is None:
        raise TransitionNotAllowed(
            _("A case in “%(old)s” cannot move to “%(new)s”.")
            % {"old": app.get_status_display(), "new": to.label}, "not_in_table")
    kind = SYSTEM if system else actor_kind_of(actor, app)
    if kind != who:
        raise PermissionDenied(_("You may not make this move."))
    if note_required(to, who) and not note.strip():
        raise TransitionNotAllowed(_("Write a note: the applicant must learn why."),
                                   "note_required")
    if who == BUREAU:
        # Under the row lock: a colleague's move made since the page was drawn counts.
        problem = four_eyes_problem(app, to, actor)
        if problem:
            raise TransitionNotAllowed(problem, "four_eyes")
    procedure = procedures.get(app.document_type)
    problem = procedure.check_transition(app, to)
    if problem:
        raise TransitionNotAllowed(problem, "procedure")

    old = app.status
    now = timezone.now()
    app.status_changes.create(old=old, new=to, actor=actor, note=note, created_at=now)
    app.status = to
    fields = ["status", "updated_at"]
    # The due date of the stage it enters (None: out of the bureau's hands), which the 逾期
    # queue compares with today (permits.assignment).
    due = assignment.stage_due_after_move(app)
    if due != app.stage_due:
        app.stage_due = due
        fields.append("stage_due")
    if to in (S.INITIAL_REVIEW, S.APPROVED) and app.submitted_at is None:
        app.submitted_at = now
        fields.append("submitted_at")
    app.save(update_fields=fields)
    if "submitted_at" in fields:
        procedure.on_submitted(app)  # SHTC's risk flags (shtc/risk.py)
    if to == S.REGISTERED and not app.registration_no:
        services.assign_registration_no(app)
    if to == S.INITIAL_REVIEW and not app.receipt_no:
        services.assign_receipt_no(app)
    if to == S.APPROVED:
        if not app.receipt_no:  # issued at once (masks): the case still gets its number
            services.assign_receipt_no(app)
        services.permit_issue(application=app, at=now)
    notifications.queue_status_mail(app, old=old, note=note)
    return app
