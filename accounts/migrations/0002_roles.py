from django.db import migrations

ROLES = ["system_admin", "security_admin", "audit_admin", "office", "township", "social_worker", "police",
         "member_unit", "leadership"]


def create_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code in ROLES:
        Role.objects.get_or_create(code=code)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
