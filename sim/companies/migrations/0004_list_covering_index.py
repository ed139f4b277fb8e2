"""Covering indexes for the list's county, target-group and SNI filters; finer search statistics.

The list loads a page ids first (``selectors.page_rows``), and these indexes answer the id
queries and the capped counts by themselves (index-only, on PostgreSQL too):

* ``company_muni_list_idx`` (municipality, name, id, status, SNI), for ``municipality_id IN (…)``
  (a county; the target group is a county and SNI ranges): SQLite reads it municipality by
  municipality in name order, tests status and SNI in it, and stops once the page is full,
  instead of reading and sorting every company of the county (150 ms for Stockholm's 79,000);
* ``company_sni_list_idx`` (SNI, name, id, status), for an SNI prefix: the division's names
  and ids are sorted from the index instead of from the rows (division 46: 170 → 13 ms).

They are created with SQL, not as model indexes: on SQLite a later migration that rebuilds
``companies_company`` drops them (as it drops the FTS triggers); ``test_selectors`` checks that
they exist after all migrations.

PostgreSQL: ``search_text`` gets 1,000 histogram buckets instead of 100, so that the planner's
estimate of how many companies a name fragment matches (``LIKE '%…%'``) is within about 20 %
instead of a multiple of 1 % of the register; ``selectors._search_window`` sizes its walk of the
name index by it. ANALYZE applies it at once (a few seconds for a million companies).
"""

from django.db import migrations

INDEXES = {
    "company_muni_list_idx": '"municipality_id", "name", "id", "status", "sni_primary"',
    "company_sni_list_idx": '"sni_primary", "name", "id", "status"',
}
CREATE = [f'CREATE INDEX IF NOT EXISTS "{name}" ON "companies_company" ({columns})' for name, columns in INDEXES.items()]
DROP = [f'DROP INDEX IF EXISTS "{name}"' for name in INDEXES]
FORWARD = {
    "sqlite": CREATE,
    "postgresql": [
        *CREATE,
        'ALTER TABLE "companies_company" ALTER COLUMN "search_text" SET STATISTICS 1000',
        'ANALYZE "companies_company"',
    ],
}
BACKWARD = {
    "sqlite": DROP,
    "postgresql": ['ALTER TABLE "companies_company" ALTER COLUMN "search_text" SET STATISTICS -1', *DROP],
}


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('companies', '0003_list_search_indexes'),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
