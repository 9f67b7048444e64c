"""家庭支持 may be unknown (issue 20): the field was a yes/no defaulting to yes, so a file made
without the answer, or imported from a ledger that has no such column, said "是" and the risk
score counted a support nobody had seen.

Existing values are kept as they are. A stored yes may be an answer or the old default, and
nothing tells them apart (the audit log of a created file lists what was filled in, but
imports and the demo wrote no entry for the default): turning every yes into unknown would
erase the answers given, so the choice is to keep them and let the next edit or import set the
truth; new files start unknown. A stored no was always an answer and stays."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('persons', '0009_transfer_refused_by_the_receiving_area'),
    ]

    operations = [
        migrations.AlterField(
            model_name='person',
            name='family_support',
            field=models.BooleanField(blank=True, default=None, null=True, verbose_name='family support'),
        ),
    ]
