# SHTC-14: the validity decided at 准件結案 and the rule that applied (shtc/review.py).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("shtc", "0004_end_user_url"),
    ]

    operations = [
        migrations.AddField(
            model_name="shtcapplication",
            name="validity_months",
            field=models.PositiveSmallIntegerField(blank=True, null=True,
                                                   verbose_name="validity (months)"),
        ),
        migrations.AddField(
            model_name="shtcapplication",
            name="validity_rule",
            field=models.TextField(blank=True, verbose_name="validity rule applied"),
        ),
    ]
