"""The demo's projects survive export → empty database → import → export unchanged, and fast."""

from __future__ import annotations

import copy
import io
import time

from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sim.companies.models import Company
from sim.competence.models import CompetenceNeed, NeedConcept
from sim.competence.tests.factories import SkillFactory
from sim.interchange import spec
from sim.interchange.exporting import export_project
from sim.interchange.importing import import_project
from sim.programmes.models import Project
from sim.stateaid.models import UndertakingProfile

DEMO_COMPANIES = 40


def without_time(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "exported_at"}


def test_demo_projects_round_trip(db):
    sid = transaction.savepoint()
    call_command("demo", seed=7, companies=DEMO_COMPANIES, stdout=io.StringIO())
    # Make sure each project has a row in the parts the demo may leave empty.
    skill = SkillFactory(preferred_label_sv="CNC-operatör")
    for project in Project.objects.all():
        company = project.referrals.order_by("pk").first().company
        need = CompetenceNeed.objects.create(company=company, project=project, text="CNC", people=2)
        NeedConcept.objects.create(need=need, concept=skill, confirmed=True, score=0.9)
        UndertakingProfile.objects.get_or_create(company=company, defaults={"fiscal_year_start": "07-01"})

    documents = {}
    for project in Project.objects.order_by("code"):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            documents[project.code] = export_project(project)
        assert time.perf_counter() - started < 10
        # One query per company source, section and many-to-many field; two per kind of shared record
        # (names, definitions); one each for instrument versions, project codes and users' roles.
        bound = (len(spec.COMPANY_SOURCES) + len(spec.SECTIONS) + sum(len(s.m2m) for s in spec.SECTIONS)
                 + 2 * len(spec.DICTIONARIES) + 3)
        assert len(captured) <= bound, [q["sql"][:80] for q in captured.captured_queries]
    transaction.savepoint_rollback(sid)
    assert not Project.objects.exists() and not Company.objects.exists()

    assert set(documents) == {"sim-2019", "sim-mitt"}
    for code, document in documents.items():
        for key in spec.TOP_LEVEL_KEYS[4:]:
            assert document[key], f"{code}: {key} is empty"
        sid = transaction.savepoint()
        project = import_project(copy.deepcopy(document))
        assert without_time(export_project(project)) == without_time(document), code
        transaction.savepoint_rollback(sid)
