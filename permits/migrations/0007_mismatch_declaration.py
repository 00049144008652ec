"""單證比對不符修正 (SHTC-10): the declaration number and 會辦識別碼 a change carries."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("permits", "0006_admin_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="declaration_no",
            field=models.CharField(blank=True, max_length=14,
                                   verbose_name="declaration number"),
        ),
        migrations.AddField(
            model_name="application",
            name="coordination_id",
            field=models.CharField(blank=True, max_length=10, verbose_name="coordination ID"),
        ),
    ]
