"""口罩流向登錄作業's list of sources read in one query that stops at the page's rows
(masks.services._newest_sources, issue 10, Stop 22), on PostgreSQL only (like 0005).

- permit_holder_newest replaces 0005's permit_holder_type: a holder's permits of one document
  type, now in the list's order (newest first, then by number) with the id included. It
  serves what permit_holder_type served (the holder branch of
  permits.listing.visible_permits_sql, index-only), and menu 3 of the list: the holder's
  permits read newest first, each probed for a write-off, stopped once the page is full,
  instead of every write-off read and each one's permit looked up and sorted (1 ms of the
  page's 2.6 ms of SQL for the bench's applicant).

Not a model index (the permit is permits' model; Django does not express INCLUDE on SQLite).
"""

from django.db import migrations, models

OLD = models.Index(fields=["holder", "document_type"], include=["id"],
                   name="permit_holder_type")
NEW = models.Index(fields=["holder", "document_type", "-created_at", "-permit_no"],
                   include=["id"], name="permit_holder_newest")


def _swap(drop, add):
    def swap(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        permit = apps.get_model("permits", "Permit")
        schema_editor.add_index(permit, add)
        schema_editor.remove_index(permit, drop)
    return swap


class Migration(migrations.Migration):

    dependencies = [
        ("masks", "0005_flow_start_indexes"),
    ]

    operations = [
        migrations.RunPython(_swap(OLD, NEW), _swap(NEW, OLD)),
    ]
