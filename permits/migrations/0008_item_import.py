"""匯入 Excel / 匯入 ODF (SHTC-17): the goods item imports being checked or waiting for 確認."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import permits.models


class Migration(migrations.Migration):

    dependencies = [
        ('permits', '0007_mismatch_declaration'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ItemImport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('queued', 'Waiting to be checked'), ('checking', 'Being checked'), ('refused', 'File refused'), ('ready', 'Checked: waiting for confirmation'), ('imported', 'Items imported'), ('cancelled', 'Import cancelled')], default='queued', max_length=10)),
                ('file', models.FileField(blank=True, max_length=200, storage=permits.models.get_private_storage, upload_to=permits.models.stored_file_path)),
                ('original_name', models.CharField(max_length=200, verbose_name='file name')),
                ('format', models.CharField(max_length=4)),
                ('language', models.CharField(blank=True, max_length=10)),
                ('progress', models.PositiveIntegerField(default=0)),
                ('total', models.PositiveIntegerField(blank=True, null=True)),
                ('message', models.TextField(blank=True)),
                ('errors', models.JSONField(blank=True, default=list)),
                ('error_count', models.PositiveIntegerField(default=0)),
                ('rows', models.JSONField(blank=True, default=list)),
                ('added', models.PositiveIntegerField(default=0)),
                ('changed', models.PositiveIntegerField(default=0)),
                ('unchanged', models.PositiveIntegerField(default=0)),
                ('removed', models.PositiveIntegerField(default=0)),
                ('fingerprint', models.CharField(blank=True, max_length=128)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('actor', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='permits.application')),
            ],
            options={
                'verbose_name': 'goods item import',
                'verbose_name_plural': 'goods item imports',
            },
        ),
    ]
