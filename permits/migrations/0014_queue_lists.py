"""The reviewers' queues read in the list's order (issue 10, 14), on PostgreSQL only.

The case list is read newest first (application_reviewers_list, 0006: submitted_at DESC NULLS
LAST, id DESC). A queue's page was read from that index with the queue's condition a filter
on each case it reached: 逾期 (under review, past the stage's due date) skipped the 6,500
newer cases that are not overdue at 100,000 cases (5 ms, each a heap fetch), and 我的案件
would skip every case of the others (for a reviewer with few open cases, the whole table).
Two partial indexes over the open cases read each queue's page in that order:

- application_assigned_list: the open cases assigned to someone, the assignee first, for
  我的案件 (status in QUEUE_STATUSES, the assignee's cases, in the list's order: the 51 rows
  of a page and no more);
- application_under_review_list: the cases under review in the list's order with their due
  date and assignee as later keys, for 逾期 (stage_due < today) and 待分派 (no assignee):
  their condition is checked in the index, with no heap fetch for the cases it skips.

Not model indexes, as 0006's: NULLS LAST has no place in SQLite's CREATE INDEX, where this
migration does nothing and the same queries run unindexed.
"""

from django.db import migrations, models

# QUEUE_STATUSES and the bureau's hands (permits.admin_queues.UNDER_REVIEW) as at this
# migration.
UNDER_REVIEW = ["consultation", "initial_review", "returned", "second_review"]
QUEUE_STATUSES = [*UNDER_REVIEW, "supplement"]
NEWEST_FIRST = (models.F("submitted_at").desc(nulls_last=True), models.F("id").desc())

INDEXES = [
    # (Assigned cases only: the queues' counts, over every open case, stay with
    # application_queues, 0013.)
    models.Index(models.F("assignee"), *NEWEST_FIRST,
                 condition=models.Q(status__in=QUEUE_STATUSES, assignee__isnull=False),
                 name="application_assigned_list"),
    models.Index(*NEWEST_FIRST, models.F("stage_due"), models.F("assignee"),
                 condition=models.Q(status__in=UNDER_REVIEW),
                 name="application_under_review_list"),
]


def on_postgresql(method):
    """RunPython's function: the schema editor's `method` (add_index, remove_index) for each
    of INDEXES, on PostgreSQL."""
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        application = apps.get_model("permits", "Application")
        for index in INDEXES:
            getattr(schema_editor, method)(application, index)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("permits", "0013_queues"),
    ]

    operations = [
        migrations.RunPython(on_postgresql("add_index"), on_postgresql("remove_index")),
    ]
