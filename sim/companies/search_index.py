"""Keeps SQLite's full-text index of company names wired up (see ADR 2).

When a migration makes Django rebuild `companies_company` on SQLite (copy, drop, rename), the
triggers that feed `companies_company_fts` are dropped with the old table, silently. After every
`migrate` they are created again if missing; the index content survives because ids are kept.
"""

from django.db import connection

SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS companies_company_fts_ai AFTER INSERT ON companies_company BEGIN "
    "INSERT INTO companies_company_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS companies_company_fts_ad AFTER DELETE ON companies_company BEGIN "
    "INSERT INTO companies_company_fts(companies_company_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS companies_company_fts_au AFTER UPDATE OF search_text ON companies_company BEGIN "
    "INSERT INTO companies_company_fts(companies_company_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO companies_company_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
TRIGGER_NAMES = {"companies_company_fts_ai", "companies_company_fts_ad", "companies_company_fts_au"}


def search_triggers_present(using=connection) -> set[str]:
    with using.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'companies_company'")
        return {row[0] for row in cursor.fetchall()}


def ensure_search_triggers(sender=None, using="default", **kwargs) -> None:
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "sqlite":
        return
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'companies_company_fts'")
        if cursor.fetchone() is None:
            return  # before migration 0002
        for statement in SQLITE_TRIGGERS:
            cursor.execute(statement)
