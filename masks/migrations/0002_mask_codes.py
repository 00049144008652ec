"""Seed the mask tariff codes of REFERENCE.md (the bureau edits them in the admin).

Categories (*decision*): 6307.90.50.31-1 紡織材料製醫用口罩 is the medical code created in
July 2020. 6307.90.50.10-6 (textile masks, filtration 94% or more) and 6307.90.50.20-4 (other
textile masks) are the codes from before the split; since the split, medical masks have a code
of their own, so what still goes under these two is non-medical. The non-medical code created
by the split was not found (REFERENCE.md): the bureau adds it here when it is known.

Idempotent (get_or_create by code): a code the bureau already edited is left as it is.
Going back leaves the rows, as permits' reference data does.
"""

from django.db import migrations

CODES = [
    ("63079050311", "medical", "紡織材料製醫用口罩"),
    ("63079050106", "non_medical", "紡織材料製口罩，過濾效率達94%以上"),
    ("63079050204", "non_medical", "其他紡織材料製口罩"),
]


def load_codes(apps, schema_editor):
    MaskCode = apps.get_model("masks", "MaskCode")
    for tariff_code, category, description in CODES:
        MaskCode.objects.get_or_create(
            tariff_code=tariff_code,
            defaults={"category": category, "description": description, "active": True})


class Migration(migrations.Migration):

    dependencies = [
        ("masks", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_codes, migrations.RunPython.noop),
    ]
