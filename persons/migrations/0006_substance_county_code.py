from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    """Existing substances take their person's county code."""
    Person = apps.get_model("persons", "Person")
    PersonSubstance = apps.get_model("persons", "PersonSubstance")
    PersonSubstance.objects.update(
        county_code=Subquery(Person.objects.filter(pk=OuterRef("person_id")).values("county_code")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("persons", "0005_partial_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="personsubstance",
            name="county_code",
            field=models.CharField(default="", editable=False, max_length=6),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
