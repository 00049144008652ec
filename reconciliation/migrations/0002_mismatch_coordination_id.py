"""會辦識別碼 (SHTC-10) on matching results; the mismatches already on file get theirs (one
per revision of a declaration, as matching gives them)."""

import secrets

from django.db import migrations, models

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # reconciliation.models.COORDINATION_ALPHABET
LENGTH = 10


def give_coordination_ids(apps, schema_editor):
    MatchResult = apps.get_model("reconciliation", "MatchResult")
    revisions = (MatchResult.objects.filter(result="mismatch", coordination_id="")
                 .order_by().values_list("declaration_id", "revision").distinct())
    for declaration_id, revision in revisions.iterator():
        MatchResult.objects.filter(declaration_id=declaration_id, revision=revision,
                                   result="mismatch").update(
            coordination_id="".join(secrets.choice(ALPHABET) for _ in range(LENGTH)))


class Migration(migrations.Migration):

    dependencies = [
        ("reconciliation", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="matchresult",
            name="coordination_id",
            field=models.CharField(blank=True, max_length=10, verbose_name="coordination ID"),
        ),
        migrations.RunPython(give_coordination_ids, migrations.RunPython.noop),
    ]
