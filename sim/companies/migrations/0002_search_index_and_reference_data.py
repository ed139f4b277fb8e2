"""Full-text search index for company names and the shipped reference data.

SQLite: an FTS5 table with the trigram tokenizer (substring search), kept in step by triggers.
PostgreSQL: pg_trgm with a GIN index on the same column (LIKE '%fragment%' uses it).
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE companies_company_fts USING fts5("
    "search_text, content='companies_company', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER companies_company_fts_ai AFTER INSERT ON companies_company BEGIN "
    "INSERT INTO companies_company_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER companies_company_fts_ad AFTER DELETE ON companies_company BEGIN "
    "INSERT INTO companies_company_fts(companies_company_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER companies_company_fts_au AFTER UPDATE OF search_text ON companies_company BEGIN "
    "INSERT INTO companies_company_fts(companies_company_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO companies_company_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS companies_company_fts_au",
    "DROP TRIGGER IF EXISTS companies_company_fts_ad",
    "DROP TRIGGER IF EXISTS companies_company_fts_ai",
    "DROP TABLE IF EXISTS companies_company_fts",
]
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS company_search_trgm ON companies_company USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS company_org_number_pattern ON companies_company (org_number varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS company_sni_pattern ON companies_company (sni_primary varchar_pattern_ops)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS company_sni_pattern",
    "DROP INDEX IF EXISTS company_org_number_pattern",
    "DROP INDEX IF EXISTS company_search_trgm",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


def load_reference(apps, schema_editor):
    from sim.companies.reference_sync import reference_data_sync

    reference_data_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("companies", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
        migrations.RunPython(load_reference, migrations.RunPython.noop),
    ]
