"""The reviewers' queue counts kept by PostgreSQL (issue 10): QueueCount, the triggers on the
cases that keep it (permits.admin_queues.counter_statements) and its rows counted from the
cases, the cases locked against writes meanwhile. Nothing but the table elsewhere (SQLite
counts the queues).

The trigger function names the statuses of permits.models.QUEUE_STATUSES and
permits.admin_queues.UNDER_REVIEW as they were when this was written (below): if either
constant changes, add a migration that runs counter_statements() and refill_statements()
again with the new statuses (tests/permits/test_queue_counters.py fails until then)."""

from django.db import migrations, models

QUEUE_STATUSES = ["consultation", "initial_review", "returned", "second_review", "supplement"]
UNDER_REVIEW = ["consultation", "initial_review", "returned", "second_review"]


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from permits import admin_queues

    with schema_editor.connection.cursor() as cursor:
        # the lock first: no case written between the triggers' start and the count
        statuses = {"queue_statuses": QUEUE_STATUSES, "under_review": UNDER_REVIEW}
        refill = admin_queues.refill_statements(**statuses)
        for sql in [*refill[:1], *admin_queues.counter_statements(**statuses), *refill]:
            cursor.execute(sql)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from permits import admin_queues

    with schema_editor.connection.cursor() as cursor:
        for sql in admin_queues.drop_statements():
            cursor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('permits', '0016_draft_list_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='QueueCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=1)),
                ('key', models.BigIntegerField()),
                ('n', models.BigIntegerField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('kind', 'key'), name='queue_count_key')],
            },
        ),
        migrations.RunPython(install, remove, elidable=False),
    ]
