"""The reads made for programme scale (bench/reporting_bench.py) give what the plain reads give: SME
categories of linked companies read graph by graph in chunks equal those of the register's
one-company assessment, the facts looked up in chunks equal those looked up at once, and the
candidate companies and their municipalities are those with qualifying work."""

import datetime as dt
import random
from decimal import Decimal

import pytest

from sim.activities.models import Activity
from sim.companies.services import company_sme_assessment
from sim.companies.tests.factories import CompanyFactory, KeyFiguresFactory, OwnershipLinkFactory
from sim.reporting import selectors

from .builders import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rate(settings):
    settings.SIM_SME_SEK_PER_EUR = "10"


def _figures(company, rng: random.Random, years=range(2021, 2026)) -> None:
    for year in years:
        staff = Decimal(rng.choice([2, 9, 30, 120, 260, 900]))
        KeyFiguresFactory(company=company, fiscal_year=year, staff_awu=staff,
                          turnover_sek=staff * Decimal(rng.randint(500_000, 3_000_000)),
                          balance_sheet_sek=staff * Decimal(rng.randint(200_000, 2_000_000)))


def _graphs() -> list[int]:
    """Companies in ownership graphs of several shapes; their ids."""
    rng = random.Random(3)
    c = {name: CompanyFactory(name=name) for name in
         ("parent", "child", "partner", "owned", "a", "b", "c", "public", "held_by_public", "bare", "with_bare",
          "group", "g1", "g2")}
    for name, company in c.items():
        if name != "bare":
            _figures(company, rng)
    c["public"].is_public_body = True
    c["public"].save()
    OwnershipLinkFactory(holder=c["parent"], held=c["child"])  # linked (60 %)
    OwnershipLinkFactory(holder=c["partner"], held=c["owned"], capital_pct=Decimal("30"), voting_pct=Decimal("30"))
    OwnershipLinkFactory(holder=c["a"], held=c["b"])  # a chain a → b → c
    OwnershipLinkFactory(holder=c["b"], held=c["c"], capital_pct=Decimal("40"), voting_pct=Decimal("40"))
    OwnershipLinkFactory(holder=c["public"], held=c["held_by_public"], capital_pct=Decimal("30"),
                         voting_pct=Decimal("30"))
    OwnershipLinkFactory(holder=c["bare"], held=c["with_bare"])  # the holder has no key figures
    OwnershipLinkFactory(holder=c["group"], held=c["g1"])
    OwnershipLinkFactory(holder=c["group"], held=c["g2"], capital_pct=Decimal("25"), voting_pct=Decimal("51"))
    return sorted(company.pk for company in c.values())


def _one_by_one(pks: list[int]) -> dict[int, dict[int, str]]:
    from sim.companies.models import Company

    result = {}
    for pk in pks:
        assessment = company_sme_assessment(Company.objects.get(pk=pk))
        result[pk] = dict(assessment.effective_categories) if assessment else {}
    return result


@pytest.mark.parametrize("chunk", [1, 3, 50])
def test_linked_size_classes_equal_the_one_company_assessment(monkeypatch, chunk):
    pks = _graphs()
    monkeypatch.setattr(selectors, "LINKED_CHUNK", chunk)
    expected = _one_by_one(pks)
    assert any(expected.values()) and {} in expected.values()  # the shapes give results and non-results
    assert selectors.linked_size_classes(pks) == expected


def test_a_chunk_reaching_the_walk_cap_is_assessed_one_by_one(monkeypatch):
    pks = _graphs()
    monkeypatch.setattr(selectors, "OWNERSHIP_CAP", 2)
    calls = []
    original = selectors.linked_size_classes.__globals__["_sme_categories"]
    monkeypatch.setitem(selectors.linked_size_classes.__globals__, "_sme_categories",
                        lambda *args: calls.append(args) or original(*args))
    assert selectors.linked_size_classes(pks) == _one_by_one(pks)
    assert not calls  # every chunk went the one-by-one way


def test_facts_in_chunks_equal_facts_at_once(monkeypatch):
    world = build_world()
    project = world["project"]
    whole = selectors.indicator_report(project)
    monkeypatch.setattr(selectors, "FACTS_CHUNK", 1)
    chunked = selectors.indicator_report(project)
    assert chunked.facts.companies == whole.facts.companies
    assert chunked.facts.enterprises == whole.facts.enterprises
    assert [(r.code, r.value, r.cumulative) for r in chunked.rows] == [(r.code, r.value, r.cumulative) for r in whole.rows]
    # Facts are read for the supported enterprises only.
    assert set(whole.facts.companies) == set(whole.facts.enterprises)


def test_candidate_companies_and_their_municipalities():
    world = build_world()
    project = world["project"]
    outsider = CompanyFactory(municipality_id="0180")
    Activity.objects.create(project=project, company=outsider, date=dt.date(2024, 5, 1), hours=Decimal("1"))
    CompanyFactory(municipality_id="1280")  # no work in the project
    candidates = set(selectors.candidate_companies(project).values_list("pk", flat=True))
    assert {world[k].pk for k in ("alfa", "beta", "gamma", "delta")} | {outsider.pk} <= candidates
    codes = [code for code, _name in selectors.municipalities_of(project)]
    assert "0180" in codes and "1280" not in codes
    assert codes == [code for code, _name in sorted(selectors.municipalities_of(project), key=lambda m: m[1])]


def test_untouched_is_the_complement_of_the_candidates():
    from sim.companies.models import Company

    world = build_world()
    project = world["project"]
    CompanyFactory()  # no work in the project
    candidates = set(selectors.candidate_companies(project).values_list("pk", flat=True))
    untouched = set(Company.objects.filter(selectors.untouched(project)).values_list("pk", flat=True))
    assert candidates and untouched
    assert candidates | untouched == set(Company.objects.values_list("pk", flat=True))
    assert not candidates & untouched
