from django.db import migrations


def seed(apps, schema_editor):
    from sim.programmes.reference import focus_areas_sync

    focus_areas_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("programmes", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
