"""The identifiers' pattern indexes of the reviewers' search (0006) hold the case's id too,
on PostgreSQL only (issue 10).

The search first asks each branch of a word for up to 1,001 cases, to know whether the word
finds few (named one by one) or many (permits.admin.case_search). For an identifier that
starts 5,000 cases, reading them in the index's order from an index that also holds the id
is an index-only scan of 1,001 entries (0.3 ms on the 100,000-case bench); newest first, it
had walked 20,000 cases back along the primary key (7 ms). Same names as before, so that
what reads them by name (tests, EXPLAIN) still finds them; nothing on SQLite.
"""

from django.db import migrations

INDEXES = {"application_applicant_id_like": "applicant_identifier",
           "application_agent_id_like": "agent_identifier"}


def indexes(*, with_id):
    """The RunPython function that makes the two indexes with the id or without it."""

    def make(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model("permits", "Application")._meta.db_table)
        for name, column in INDEXES.items():
            name, column = schema_editor.quote_name(name), schema_editor.quote_name(column)
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
            schema_editor.execute(f"CREATE INDEX {name} ON {table} ({column} varchar_pattern_ops)"
                                  + (f" INCLUDE ({schema_editor.quote_name('id')})" if with_id
                                     else ""))

    return make


class Migration(migrations.Migration):

    dependencies = [
        ("permits", "0008_item_import"),
    ]

    operations = [
        migrations.RunPython(indexes(with_id=True), indexes(with_id=False)),
    ]
