"""The index of the 轉口港代碼 look-up (shtc/port_views.py), on PostgreSQL only (like masks 0005
and permits 0006; on SQLite the look-up reads the table as before).

A country's page lists its codes in order, 200 at a time (`country = 'US' ORDER BY code`).
Without this index PostgreSQL read the primary key from AAxxx on and filtered out every code
before the country's: for the United States 62,000 rows, 28 ms at bench/pages.py's data
(2026-12-02). With it the page's rows are a range of the index, read index-only (name,
subdivision and function included), and so are the page's count and its editions.

Not a model index: Django does not express INCLUDE on SQLite.
"""

from django.db import migrations, models

INDEX = models.Index(fields=["country", "code"],
                     include=["name", "subdivision", "function", "edition"],
                     name="shtc_port_country_code")


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("shtc", "Port"), INDEX)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_index(apps.get_model("shtc", "Port"), INDEX)


class Migration(migrations.Migration):

    dependencies = [
        ("shtc", "0006_reimport_reminder"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
