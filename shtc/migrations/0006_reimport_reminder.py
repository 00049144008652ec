# SHTC-5 (1): the reminders of exhibition permits whose proof of re-import is outstanding.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("permits", "0006_admin_search"),
        ("shtc", "0005_validity_rule"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReimportReminder",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                           serialize=False, verbose_name="ID")),
                ("step", models.PositiveSmallIntegerField(
                    choices=[(1, "30 days before the validity ends"),
                             (2, "7 days before the validity ends"),
                             (3, "after the validity ended")],
                    verbose_name="reminder")),
                ("valid_until", models.DateField(verbose_name="valid until")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now,
                                                    verbose_name="time")),
                ("email", models.ForeignKey(blank=True, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL,
                                            related_name="+", to="permits.outboundemail",
                                            verbose_name="e-mail")),
                ("permit", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                             related_name="reimport_reminders",
                                             to="permits.permit", verbose_name="permit")),
            ],
            options={
                "verbose_name": "re-import reminder",
                "verbose_name_plural": "re-import reminders",
                "ordering": ["-created_at"],
                "constraints": [models.UniqueConstraint(
                    fields=("permit", "step"), name="shtc_reimport_reminder_once_per_step")],
            },
        ),
    ]
