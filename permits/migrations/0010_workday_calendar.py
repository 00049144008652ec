"""The working-day clock (issue 14, X3; permits/workdays.py): the bureau's adjustments of
Taiwan's calendar, and the review targets per procedure and stage, seeded with the SHTC
manual's (§1.6: 初審 within 7 working days, 協查 within 30). Masks are issued at once: no
target."""

import django.core.validators
import portal.choices
from django.db import migrations, models


# (document type, stage, working days)
TARGETS = [("SE", "initial_review", 7), ("SE", "consultation", 30)]


def seed_targets(apps, schema_editor):
    ReviewTarget = apps.get_model("permits", "ReviewTarget")
    for document_type, stage, days in TARGETS:
        ReviewTarget.objects.get_or_create(document_type=document_type, stage=stage,
                                           defaults={"working_days": days})


class Migration(migrations.Migration):

    dependencies = [
        ('permits', '0009_admin_search_ids'),
    ]

    operations = [
        migrations.CreateModel(
            name='WorkdayAdjustment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField(error_messages={'unique': 'This date already has an adjustment: change that one instead.'}, unique=True, verbose_name='date')),
                ('kind', models.CharField(choices=[('workday', 'Make-up workday'), ('day_off', 'Day off (e.g. a typhoon)')], max_length=10, verbose_name='kind')),
                ('note', models.CharField(blank=True, help_text='Why, e.g. the announcement of the Directorate-General of Personnel Administration.', max_length=200, verbose_name='note')),
            ],
            options={
                'verbose_name': 'working-day adjustment',
                'verbose_name_plural': 'working-day adjustments',
                'ordering': ['-date'],
            },
            bases=(portal.choices.ChoiceLabels, models.Model),
        ),
        migrations.CreateModel(
            name='ReviewTarget',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('document_type', models.CharField(choices=[('MK', 'Face-mask import permit application'), ('SE', 'SHTC export permit'), ('EU', 'End-use assurance')], max_length=2, verbose_name='document type')),
                ('stage', models.CharField(choices=[('initial_review', 'Initial review'), ('consultation', 'Inter-agency consultation'), ('second_review', 'Second review')], max_length=20, verbose_name='stage')),
                ('working_days', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(365)], verbose_name='working days')),
            ],
            options={
                'verbose_name': 'review target',
                'verbose_name_plural': 'review targets',
                'ordering': ['document_type', 'stage'],
                'constraints': [models.UniqueConstraint(fields=('document_type', 'stage'), name='review_target_one_per_stage', violation_error_message='This stage of this procedure already has a target: change that one instead.'), models.CheckConstraint(condition=models.Q(('working_days__gte', 1), ('working_days__lte', 365)), name='review_target_days_range')],
            },
            bases=(portal.choices.ChoiceLabels, models.Model),
        ),
        migrations.RunPython(seed_targets, migrations.RunPython.noop),
    ]
