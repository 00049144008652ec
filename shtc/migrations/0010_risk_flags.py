# Issue 14, point 4: the screening list and the risk flags of SHTC cases (shtc/risk.py).

import django.db.models.deletion
import django.utils.timezone
import portal.choices
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('permits', '0009_admin_search_ids'),
        ('shtc', '0009_exporter_buyers_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ScreeningEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=300, verbose_name='name')),
                ('aliases', models.TextField(blank=True, help_text='Other names of the entry, separated by “;”.', max_length=4000, verbose_name='aliases')),
                ('country', models.CharField(blank=True, max_length=2, verbose_name='country code')),
                ('source_list', models.CharField(max_length=100, verbose_name='source list')),
                ('note', models.TextField(blank=True, max_length=1000, verbose_name='note')),
                ('active', models.BooleanField(default=True, verbose_name='in use')),
                ('updated_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='updated')),
            ],
            options={
                'verbose_name': 'screening list entry',
                'verbose_name_plural': 'screening list',
                'ordering': ['source_list', 'name'],
                'constraints': [models.UniqueConstraint(fields=('source_list', 'name', 'country'), name='shtc_screening_entry_unique')],
            },
        ),
        migrations.CreateModel(
            name='RiskFlag',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('controlled_destination', 'Destination Iran or North Korea'), ('watched_destination', 'Destination mainland China or the UAE'), ('reexport', "Re-export needing the original country's approval"), ('first_export', 'First export to this end user'), ('screening_match', 'Matches the screening list'), ('transit_port', 'Transit port in a controlled area')], max_length=30, verbose_name='risk')),
                ('params', models.JSONField(blank=True, default=dict, verbose_name='details')),
                ('score', models.FloatField(blank=True, null=True, verbose_name='match score')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='raised')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided')),
                ('decision_note', models.TextField(blank=True, verbose_name='decision')),
                ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='risk_flags', to='permits.application', verbose_name='application')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                ('matched_entry', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='flags', to='shtc.screeningentry', verbose_name='screening list entry')),
            ],
            options={
                'verbose_name': 'risk flag',
                'verbose_name_plural': 'risk flags',
                'ordering': ['application', 'pk'],
                'indexes': [models.Index(fields=['application', 'kind'], name='shtc_riskflag_case_kind')],
            },
            bases=(portal.choices.ChoiceLabels, models.Model),
        ),
    ]
