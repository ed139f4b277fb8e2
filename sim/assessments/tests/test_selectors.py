"""Reads of assessments and plans (selectors.py) and copying instrument files into the database."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest

from sim.assessments import instrument_files, rules, selectors, services
from sim.assessments.instrument_sync import instrument_sync
from sim.assessments.models import InstrumentVersion, Need, NeedStatus
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.core.roles import Role

from .helpers import DIGITAL, GROWTH, completed_assessment, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR)


@pytest.fixture
def world(advisor):
    own = CompanyFactory(name="Eget AB")
    other = CompanyFactory(name="Annat AB")
    own_completed = completed_assessment(advisor, own, GROWTH, conducted_on=dt.date(2024, 5, 1))
    own_draft = start(advisor, own, DIGITAL)
    other_completed = completed_assessment(advisor, other, GROWTH, level=1)
    shared = services.growth_plan_create(advisor, own, title="Delad plan", from_needs=False)
    services.growth_plan_update(advisor, shared, {"shared_with_company": True})
    unshared = services.growth_plan_create(advisor, own, title="Intern plan", from_needs=False)
    other_plan = services.growth_plan_create(advisor, other, title="Annans plan", from_needs=False)
    services.growth_plan_update(advisor, other_plan, {"shared_with_company": True})
    return {
        "own": own, "other": other, "own_completed": own_completed, "own_draft": own_draft,
        "other_completed": other_completed, "shared": shared, "unshared": unshared, "other_plan": other_plan,
    }


def _representative(make_user, company):
    user = make_user(Role.COMPANY_REPRESENTATIVE)
    CompanyRepresentativeFactory(user=user, company=company)
    return user


# --- Visibility -------------------------------------------------------------------------------


def test_a_representative_sees_completed_assessments_and_shared_plans_of_their_company(make_user, world):
    user = _representative(make_user, world["own"])
    assert list(selectors.assessments_visible_to(user)) == [world["own_completed"]]
    assert selectors.assessment_for_user(user, world["own_draft"].pk) is None
    assert selectors.assessment_for_user(user, world["other_completed"].pk) is None
    assert list(selectors.assessments_of(user, world["own"])) == [world["own_completed"]]
    assert list(selectors.growth_plans_visible_to(user)) == [world["shared"]]


def test_a_representative_sees_only_open_needs_of_their_company(make_user, advisor, world):
    user = _representative(make_user, world["own"])
    kept = services.need_save(advisor, world["own"], {"title": "Exportplan"})
    done = services.need_save(advisor, world["own"], {"title": "Klart", "status": NeedStatus.ADDRESSED})
    visible = list(selectors.needs_of(user, world["own"]))
    assert kept in visible and done not in visible
    assert done in selectors.needs_of(advisor, world["own"])


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADVISOR, Role.PROJECT_MANAGER, Role.ADMIN])
def test_register_wide_roles_see_everything(make_user, world, role):
    user = make_user(role)
    assert set(selectors.assessments_visible_to(user)) == {
        world["own_completed"], world["own_draft"], world["other_completed"]}
    assert set(selectors.growth_plans_visible_to(user)) == {world["shared"], world["unshared"], world["other_plan"]}
    assert selectors.needs_of(user, world["other"]).count() == 5


@pytest.mark.parametrize("role", [Role.EDUCATION_PROVIDER, Role.FINANCE_OFFICER, None])
def test_roles_without_assessment_permissions_see_nothing(make_user, world, role):
    user = make_user(role)
    assert not selectors.assessments_visible_to(user).exists()
    assert not selectors.growth_plans_visible_to(user).exists()
    assert not selectors.needs_of(user, world["other"]).exists()


def test_a_representative_without_a_company_sees_nothing(make_user, world):
    user = make_user(Role.COMPANY_REPRESENTATIVE)
    assert not selectors.assessments_visible_to(user).exists()
    assert not selectors.growth_plans_visible_to(user).exists()


# --- Instruments, comparing, results ---------------------------------------------------------


def test_published_instruments_are_the_latest_versions():
    v1 = InstrumentVersion.objects.get(key=DIGITAL, version=1)
    v2 = InstrumentVersion.objects.create(
        key=DIGITAL, version=2, kind=v1.kind, title_sv=v1.title_sv, title_en=v1.title_en, digest="x",
        definition={**v1.definition, "version": 2},
    )
    latest = {v.key: v for v in selectors.published_instruments()}
    assert set(latest) == {DIGITAL, GROWTH}
    assert latest[DIGITAL] == v2
    assert latest[GROWTH].version == 2
    assert services.latest_instrument_version(DIGITAL) == v2


def test_comparable_assessments_are_other_completed_ones_of_the_company(advisor, world):
    own = world["own"]
    later = completed_assessment(advisor, own, GROWTH, level=4, phase="follow_up", conducted_on=dt.date(2025, 9, 1))
    start(advisor, own, GROWTH)  # a draft: not comparable
    completed_assessment(advisor, own, DIGITAL)  # another instrument
    assert list(selectors.comparable_assessments(later)) == [world["own_completed"]]
    assert list(selectors.comparable_assessments(world["own_completed"])) == [later]
    change = rules.compare(selectors.result_of(world["own_completed"]), selectors.result_of(later))
    assert change["overall"] > 0


def test_result_of_is_frozen_or_live(advisor, world):
    completed = world["own_completed"]
    assert selectors.result_of(completed) == rules.score_from_json(completed.scores)
    draft = world["own_draft"]
    services.assessment_answer(advisor, draft, "dbs_strategy", 3)
    draft.refresh_from_db()
    live = selectors.result_of(draft)
    assert live.dimensions["digital_business_strategy"].score == Decimal("60.0")
    assert "hc_skills" in live.missing_required


# --- Peer benchmark ---------------------------------------------------------------------------


def _peers(advisor, count, *, sni="25620", size_class="small", level=3, **overrides):
    return [
        completed_assessment(advisor, CompanyFactory(sni_primary=sni, size_class=size_class), GROWTH, level=level,
                             **overrides)
        for _ in range(count)
    ]


def test_peer_benchmark_is_hidden_below_five_other_companies(advisor):
    subject = completed_assessment(advisor, CompanyFactory(sni_primary="25620", size_class="small"), GROWTH)
    _peers(advisor, 4)
    for group in ("sni_division", "size_class", "all"):
        assert selectors.peer_benchmark(subject, group) is None
    # The company's own other assessments never count as peers.
    completed_assessment(advisor, subject.company, GROWTH, level=5)
    assert selectors.peer_benchmark(subject, "all") is None


def test_peer_benchmark_means_per_group(advisor):
    subject = completed_assessment(advisor, CompanyFactory(sni_primary="25620", size_class="small"), GROWTH)
    same_industry = _peers(advisor, 3, level=1) + _peers(advisor, 2, level=4, size_class="medium")
    same_size = _peers(advisor, 3, sni="16101", level=2)
    # A company's latest assessment counts, once.
    completed_assessment(advisor, same_size[0].company, GROWTH, level=5, conducted_on=dt.date(2020, 1, 1))

    industry = selectors.peer_benchmark(subject, "sni_division")
    assert (industry.group, industry.companies) == ("sni_division", 5)
    assert industry.label == "Same industry (SNI 25)"
    expected = [a.scores["dimensions"]["financing"]["score"] for a in same_industry]
    assert industry.dimensions["financing"] == (Decimal(str(sum(expected))) / 5).quantize(Decimal("0.1"))
    overall = sum(Decimal(str(a.scores["overall"])) for a in same_industry) / 5
    assert industry.overall == overall.quantize(Decimal("0.1"))
    assert set(industry.dimensions) == set(subject.scores["dimensions"])

    size = selectors.peer_benchmark(subject, "size_class")
    assert size.companies == 6  # three from division 25, three from division 16
    peers = [*same_industry[:3], *same_size]
    overall = sum(Decimal(str(a.scores["overall"])) for a in peers) / 6
    assert size.overall == overall.quantize(Decimal("0.1"))

    everyone = selectors.peer_benchmark(subject, "all")
    assert everyone.companies == 8


def test_peer_benchmark_without_industry_or_size(advisor):
    subject = completed_assessment(advisor, CompanyFactory(sni_primary="", size_class=""), GROWTH)
    _peers(advisor, 5)
    assert selectors.peer_benchmark(subject, "sni_division") is None
    assert selectors.peer_benchmark(subject, "size_class") is None
    assert selectors.peer_benchmark(subject, "all").companies == 5
    with pytest.raises(ValueError):
        selectors.peer_benchmark(subject, "municipality")


# --- Instrument sync --------------------------------------------------------------------------


@pytest.fixture
def instruments_root(tmp_path, monkeypatch):
    """A copy of the shipped instruments that the test may change."""
    root = tmp_path / "instruments"
    shutil.copytree(instrument_files.INSTRUMENTS_DIR, root)
    monkeypatch.setattr(instrument_files, "INSTRUMENTS_DIR", root)
    instrument_files.clear_cache()
    yield root
    instrument_files.clear_cache()


def test_sync_with_nothing_new_changes_nothing(instruments_root):
    before = list(InstrumentVersion.objects.values_list("key", "version", "digest"))
    assert instrument_sync() == {"added": [], "changed": []}
    assert list(InstrumentVersion.objects.values_list("key", "version", "digest")) == before


def test_sync_adds_new_versions(instruments_root):
    text = (instruments_root / DIGITAL / "v1.yaml").read_text(encoding="utf-8")
    v2 = text.replace("\nversion: 1\n", "\nversion: 2\n").replace("sv: Digital mognad", "sv: Digital mognad 2")
    assert v2 != text
    (instruments_root / DIGITAL / "v2.yaml").write_text(v2, encoding="utf-8")
    report = instrument_sync()
    assert report == {"added": [f"{DIGITAL} v2"], "changed": []}
    stored = InstrumentVersion.objects.get(key=DIGITAL, version=2)
    loaded = instrument_files.load_instrument(DIGITAL, 2)
    assert stored.digest == instrument_files.instrument_digest(loaded)
    assert stored.definition["version"] == 2
    assert stored.instrument().version == 2
    assert services.latest_instrument_version(DIGITAL) == stored
    assert instrument_sync() == {"added": [], "changed": []}


def test_sync_reports_an_edited_published_version_without_overwriting_it(instruments_root, caplog, advisor):
    stored = InstrumentVersion.objects.get(key=GROWTH, version=1)
    assessment = completed_assessment(advisor, CompanyFactory(), GROWTH)
    path = instruments_root / GROWTH / "v1.yaml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace("en: SIM growth interview", "en: SIM growth interview (edited)")
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    instrument_files.clear_cache()
    report = instrument_sync()
    assert report == {"added": [], "changed": [f"{GROWTH} v1"]}
    assert "publish the change as v3" in caplog.text  # v2 is published already
    again = InstrumentVersion.objects.get(pk=stored.pk)
    assert (again.digest, again.title_en, again.definition) == (stored.digest, stored.title_en, stored.definition)
    assessment.refresh_from_db()
    assert assessment.instrument().title.en == "SIM growth interview"


def test_need_selectors_order_by_status_and_priority(advisor):
    company = CompanyFactory()
    later = services.need_save(advisor, company, {"title": "B", "priority": 3})
    first = services.need_save(advisor, company, {"title": "A", "priority": 1})
    closed = services.need_save(advisor, company, {"title": "C", "priority": 1, "status": NeedStatus.DISMISSED})
    # Status by its code (addressed, dismissed, open), then the most urgent first.
    assert list(selectors.needs_of(advisor, company)) == [closed, first, later]
    assert Need.objects.filter(company=company).count() == 3
