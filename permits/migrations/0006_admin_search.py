"""The indexes of the reviewers' case list (permits.admin, issue 10), on PostgreSQL only.

The admin's search looks numbers and identifiers up by their beginning (LIKE 'Q%': the
receipt, registration and permit numbers have their pattern indexes since 0001, as unique
columns; the identifiers get theirs here) and names by any part (UPPER(name) LIKE '%Q%',
served by a pg_trgm GIN index). The list is read newest first, drafts last, also within
one status. None of these is a model index: a GIN index with an operator class does not
exist on SQLite, where this migration does nothing and the same queries run unindexed.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

NEWEST_FIRST = (models.F("submitted_at").desc(nulls_last=True), models.F("id").desc())

INDEXES = [
    models.Index(*NEWEST_FIRST, name="application_reviewers_list"),
    models.Index(models.F("status"), *NEWEST_FIRST, name="application_reviewers_status"),
    models.Index(fields=["applicant_identifier"], opclasses=["varchar_pattern_ops"],
                 name="application_applicant_id_like"),
    models.Index(fields=["agent_identifier"], opclasses=["varchar_pattern_ops"],
                 name="application_agent_id_like"),
]
# The GIN index over UPPER(applicant_name), which Django's icontains compares. Written out:
# GinIndex(OpClass(Upper(...))) needs django.contrib.postgres installed as an app, which
# the portal does not otherwise need.
NAME_INDEX = "application_name_trgm"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    application = apps.get_model("permits", "Application")
    for index in INDEXES:
        schema_editor.add_index(application, index)
    schema_editor.execute(
        f"CREATE INDEX {schema_editor.quote_name(NAME_INDEX)} ON "
        f"{schema_editor.quote_name(application._meta.db_table)} "
        f"USING gin (UPPER({schema_editor.quote_name('applicant_name')}) gin_trgm_ops)")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    application = apps.get_model("permits", "Application")
    for index in INDEXES:
        schema_editor.remove_index(application, index)
    schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(NAME_INDEX)}")


class Migration(migrations.Migration):

    dependencies = [
        ("permits", "0005_case_list_indexes"),
    ]

    operations = [
        TrigramExtension(),  # CREATE EXTENSION IF NOT EXISTS pg_trgm; nothing on SQLite
        migrations.RunPython(create_indexes, drop_indexes),
    ]
