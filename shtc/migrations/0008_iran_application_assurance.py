"""9-2-2 (SHTC-7): an application for Iran or North Korea names the end-use assurance
registered in 9-2-1 whose 登錄編號 loaded it (ShtcApplication.assurance)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("permits", "0006_admin_search"),
        ("shtc", "0007_port_lookup_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="shtcapplication",
            name="assurance",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                related_name="iran_applications", to="permits.application",
                verbose_name="end-use assurance (9-2-1)"),
        ),
    ]
