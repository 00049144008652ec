"""The index of the five-export rule's buyers (SHTC-14 (2), shtc.rules.releases_to_importer,
which the reviewer's panel asks for every case in review: issue 10, bench/README.md "Stop
20"), on PostgreSQL only (like 0007; on SQLite the rule reads as before).

The rule first finds the exporter's SHTC export cases to the destination
(`applicant_identifier = X AND destination_country = Y AND document_type = 'SE'`).
PostgreSQL ANDed two bitmaps of some 5,000 cases each (the exporter's, the country's) and
read their heap: 10 to 50 ms at bench/pages.py's data for the applicant with 5,006 cases,
under load. With this index those cases are one range of it, read index-only: 0.7 to 0.9 ms
(EXPLAIN ANALYZE, 2026-12-03). Made CONCURRENTLY: the table is the busiest one, and
building it must not hold up the cases being written.

Not a model index of permits: the query and its document type are SHTC's.
"""

from django.db import migrations

NAME = "application_se_exporter"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    table = apps.get_model("permits", "Application")._meta.db_table
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(NAME)} ON {quote(table)} "
        f"({quote('applicant_identifier')}, {quote('destination_country')}) "
        f"INCLUDE ({quote('id')}) WHERE {quote('document_type')} = 'SE'")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(NAME)}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("permits", "0007_mismatch_declaration"),
        ("shtc", "0008_iran_application_assurance"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, atomic=False),
    ]
