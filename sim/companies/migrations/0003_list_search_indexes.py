
from django.conf import settings
from django.db import migrations, models


def drop_pattern_indexes(apps, schema_editor):
    # Prefix filters are now ranges served by the ordinary b-tree indexes (selectors.prefix_q).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS company_org_number_pattern")
        schema_editor.execute("DROP INDEX IF EXISTS company_sni_pattern")


class Migration(migrations.Migration):

    dependencies = [
        ('companies', '0002_search_index_and_reference_data'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_pattern_indexes, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='company',
            name='company_name_idx',
        ),
        migrations.AddIndex(
            model_name='company',
            index=models.Index(fields=['name', 'id', 'search_text', 'status'], name='company_name_idx'),
        ),
        migrations.AddIndex(
            model_name='company',
            index=models.Index(fields=['updated_at', 'id'], name='company_updated_idx'),
        ),
    ]
