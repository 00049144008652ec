"""Seed the reference tables the bureau edits in the admin (REFERENCE.md): ISO 3166-1
countries with their short Chinese names as used in Taiwan, and the ISO 4217 currencies in
use. The data lives in permits/data/*.csv, not in code.

Idempotent (update_or_create by code); `active` is left as the admin set it. Going back
leaves the rows: nothing else in 0001 depends on them, and removing them would lose the
bureau's edits.
"""

import csv
from pathlib import Path

from django.db import migrations

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def read_rows(filename):
    with open(DATA_DIR / filename, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_table(model, filename):
    for row in read_rows(filename):
        model.objects.update_or_create(
            code=row["code"].strip().upper(),
            defaults={"name_zh": row["name_zh"].strip(), "name_en": row["name_en"].strip()},
        )


def load_reference_data(apps, schema_editor):
    load_table(apps.get_model("permits", "Country"), "countries.csv")
    load_table(apps.get_model("permits", "Currency"), "currencies.csv")


class Migration(migrations.Migration):

    dependencies = [
        ("permits", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_reference_data, migrations.RunPython.noop),
    ]
