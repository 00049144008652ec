from django.db import migrations


def create_group(apps, schema_editor):
    # The bureau's reviewers (ACC-5). The permit framework grants the group its permissions.
    apps.get_model("auth", "Group").objects.get_or_create(name="reviewers")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
