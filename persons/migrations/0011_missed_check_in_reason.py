"""Missed check-ins (漏检) are explained by the worker: a reason, a note, the day (issue 20)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('persons', '0010_family_support_unknown'),
    ]

    operations = [
        migrations.AddField(
            model_name='plannedcheckin',
            name='explained_on',
            field=models.DateField(blank=True, null=True, verbose_name='explained on'),
        ),
        migrations.AddField(
            model_name='plannedcheckin',
            name='missed_note',
            field=models.CharField(blank=True, max_length=300, verbose_name='note on the missed check-in'),
        ),
        migrations.AddField(
            model_name='plannedcheckin',
            name='missed_reason',
            field=models.CharField(blank=True, choices=[('not_found', 'Could not be found'), ('away_reported', 'Working away, reported'), ('in_hospital', 'In hospital'), ('refused', 'Refused'), ('evaded', 'Evaded'), ('other', 'Other reason')], max_length=20, verbose_name='reason missed'),
        ),
    ]
