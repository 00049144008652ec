"""An applicant's cases in a status, in the list's order (issue 10), on PostgreSQL only.

The reviewers' search for an identifier that finds many cases (more than
permits.admin.FEW_FOUND: the bench's applicant has 5,006) asks the list's query for them,
and with a status chosen read the list's index of the cases under review newest first,
the identifier checked on each case it reached: 1,841 heap fetches for a page of 51 of the
applicant's 510 cases in 初審 (1.4-1.9 ms). When the identifier's beginning is one whole
identifier (permits.admin._probed), the search asks for that identifier (`=`), and this
index reads the applicant's cases in that status in the list's order: the page's 51 index
entries (0.2 ms, EXPLAIN ANALYZE on bench_pages_large).

Not a model index, as 0006's and 0014's: NULLS LAST has no place in SQLite's CREATE INDEX,
where this migration does nothing.
"""

from django.db import migrations, models

INDEX = models.Index(models.F("applicant_identifier"), models.F("status"),
                     models.F("submitted_at").desc(nulls_last=True), models.F("id").desc(),
                     name="application_identifier_status")


def on_postgresql(method):
    """RunPython's function: the schema editor's `method` (add_index, remove_index) for
    INDEX, on PostgreSQL."""
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        getattr(schema_editor, method)(apps.get_model("permits", "Application"), INDEX)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("permits", "0014_queue_lists"),
    ]

    operations = [
        migrations.RunPython(on_postgresql("add_index"), on_postgresql("remove_index")),
    ]
