"""The indexes of 口罩流向登錄作業's list of sources (masks.services._newest_sources, issue 10),
on PostgreSQL only (like permits 0006: the list's fast path is PostgreSQL's; on SQLite the
list is read through the ORM and this migration does nothing).

- mask_import_newest: the import declarations newest first, with the permit each cites (an
  index-only scan that stops once the batch's rows of visible permits are found; the
  bench's applicant, who sees 1,189 mask permits, finds 100 within about 1,000 entries).
- permit_holder_type: a holder's permits of one document type, read index-only (the
  holder branch of permits.listing.visible_permits_sql).

Not model indexes: the first is on reconciliation's table and serves this page only; Django
does not express INCLUDE on SQLite.
"""

from django.db import migrations, models

INDEXES = [
    ("reconciliation", "Declaration", models.Index(
        models.F("received_at").desc(), models.F("number").desc(),
        include=["permit", "id"], condition=models.Q(direction="import"),
        name="mask_import_newest")),
    ("permits", "Permit", models.Index(
        fields=["holder", "document_type"], include=["id"], name="permit_holder_type")),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, index in INDEXES:
        schema_editor.add_index(apps.get_model(app_label, model_name), index)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app_label, model_name, index in INDEXES:
        schema_editor.remove_index(apps.get_model(app_label, model_name), index)


class Migration(migrations.Migration):

    dependencies = [
        ("masks", "0004_stock_refresh_mark"),
        ("reconciliation", "0001_initial"),
        ("permits", "0006_admin_search"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
