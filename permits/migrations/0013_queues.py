"""The reviewers' queues (issue 14): their partial index, and the due dates of the cases
already under review (Application.stage_due, kept by transition() from now on)."""

from django.conf import settings
from django.db import migrations, models

UNDER_REVIEW = ["consultation", "initial_review", "returned", "second_review"]


def set_stage_due(apps, schema_editor):
    """stage_due of each case under review whose procedure has a target: the open cases
    only, a thousand at a time, with the clock's own functions over the historical rows."""
    from permits import assignment, workdays

    Application = apps.get_model("permits", "Application")
    StatusChange = apps.get_model("permits", "StatusChange")
    rows = [(day, kind, "", 0) for day, kind in
            apps.get_model("permits", "WorkdayAdjustment").objects.values_list("date", "kind")]
    rows += [(None, stage, document_type, days) for document_type, stage, days in
             apps.get_model("permits", "ReviewTarget").objects.values_list(
                 "document_type", "stage", "working_days")]
    rules = workdays.rules_from(rows)
    types = sorted({document_type for document_type, _stage in rules.targets})
    cases = Application.objects.filter(status__in=UNDER_REVIEW, document_type__in=types)
    last = 0
    while True:
        batch = list(cases.filter(pk__gt=last).order_by("pk").only(
            "pk", "status", "document_type")[:assignment.BATCH])
        if not batch:
            return
        last = batch[-1].pk
        history = workdays.histories([case.pk for case in batch], StatusChange)
        for case in batch:
            case.stage_due = assignment.stage_due(
                status=case.status, document_type=case.document_type,
                history=history.get(case.pk, ()), rules=rules)
        Application.objects.bulk_update(batch, ["stage_due"])


class Migration(migrations.Migration):

    dependencies = [
        ('permits', '0012_review_workbench'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='application',
            index=models.Index(
                condition=models.Q(("status__in", [*UNDER_REVIEW, "supplement"])),
                fields=["status", "assignee", "stage_due"], name="application_queues"),
        ),
        migrations.RunPython(set_stage_due, migrations.RunPython.noop),
    ]
