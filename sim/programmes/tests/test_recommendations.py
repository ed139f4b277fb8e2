"""Profiles from the database, recommendations, suited companies and the offer services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from sim.assessments.models import NeedStatus
from sim.assessments.tests.helpers import DIGITAL, GROWTH, completed_assessment, start
from sim.companies.models import Company, CompanyStatus
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory
from sim.core.models import AuditEvent
from sim.core.roles import Role
from sim.programmes import aid, offer_services, recommendations, rules
from sim.programmes.models import Offer, Referral, ReferralStatus

from . import offer_builders as build

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR)


def profile_of(company):
    return recommendations.company_profile(company, with_headroom=False)


# --- Company profiles ---------------------------------------------------------------------------


class TestCompanyProfiles:
    def test_register_fields_county_and_target_group(self):
        inside = CompanyFactory(size_class="small", sni_primary="25620", municipality_id="2380")
        outside = CompanyFactory(size_class="", sni_primary="47110", municipality_id="2281")
        nowhere = CompanyFactory(municipality_id=None, sni_primary="")
        first, second, third = (profile_of(c) for c in (inside, outside, nowhere))
        assert (first.size_class, first.sni, first.county, first.municipality, first.in_target_group) == (
            "small", "25620", "23", "2380", True)
        assert (second.size_class, second.county, second.in_target_group) == ("", "22", False)
        assert (third.county, third.municipality, third.sni) == ("", "", "")
        assert first.org_number == inside.org_number and first.name == inside.name

    def test_open_needs_only(self):
        company = CompanyFactory()
        build.need(company, "production_efficiency", 1, "Automate")
        build.need(company, None, 2, "Without focus area")
        build.need(company, "financing", 1, "Done already", status=NeedStatus.ADDRESSED)
        build.need(company, "financing", 1, "Dismissed", status=NeedStatus.DISMISSED)
        assert sorted(profile_of(company).needs, key=lambda n: n.title) == [
            rules.NeedItem("production_efficiency", 1, "Automate"), rules.NeedItem(None, 2, "Without focus area")]

    def test_scores_of_the_latest_completed_assessment_per_instrument(self, advisor):
        company = CompanyFactory()
        completed_assessment(advisor, company, GROWTH, level=5, conducted_on=dt.date(2024, 1, 10))
        latest = completed_assessment(advisor, company, GROWTH, level=1, conducted_on=dt.date(2025, 2, 1))
        digital = completed_assessment(advisor, company, DIGITAL, level=2, conducted_on=dt.date(2023, 5, 1))
        start(advisor, company, DIGITAL)  # a draft does not count
        profile = profile_of(company)
        assert profile.assessed_instruments == {GROWTH, DIGITAL}
        for dimension, item in latest.scores["dimensions"].items():
            assert profile.scores[(GROWTH, dimension)] == item["score"]
        for dimension, item in digital.scores["dimensions"].items():
            assert profile.scores[(DIGITAL, dimension)] == item["score"]
        # Growth-interview dimensions belong to focus areas; the digital ones do not.
        assert profile.focus_area_scores == {
            key: latest.scores["dimensions"][key]["score"]
            for key in ("financing", "production_efficiency", "service_addition", "internationalisation", "growth_and_competence")
        }
        # The low-scored interview left open needs in every focus area (the digital ones have none).
        assert {n.focus_area_key for n in profile.needs} == {*profile.focus_area_scores, None}

    def test_no_assessment(self):
        profile = profile_of(CompanyFactory())
        assert profile.scores == {} and profile.assessed_instruments == frozenset() and profile.needs == ()

    def test_a_fixed_number_of_queries_whatever_the_number_of_companies(self, advisor):
        def count(n):
            companies = [CompanyFactory(municipality_id="2380") for _ in range(n)]
            for company in companies:
                build.need(company, "financing", 1)
            ids = [c.pk for c in companies]
            recommendations.dimension_focus_areas()  # instrument metadata is cached after the first read
            with CaptureQueriesContext(connection) as queries:
                profiles = recommendations.company_profiles(
                    type(companies[0]).objects.filter(pk__in=ids), on_date=TODAY)
            assert len(profiles) == n
            return len(queries.captured_queries)

        completed_assessment(advisor, CompanyFactory(), GROWTH, level=2)
        # Instrument versions, companies (+ the target counties' municipalities), needs, assessments.
        assert count(2) == count(40) <= 5

    def test_headroom_from_the_aid_rules(self, monkeypatch):
        company = CompanyFactory()
        monkeypatch.setattr(aid, "deminimis_headroom_sek", lambda c, on_date: Decimal("123456.78"))
        assert recommendations.company_profile(company).deminimis_headroom_sek == Decimal("123456.78")
        assert recommendations.company_profile(company, with_headroom=False).deminimis_headroom_sek is None

    def test_headroom_unknown_without_the_aid_function(self, monkeypatch):
        monkeypatch.delattr(aid, "deminimis_headroom_sek")
        assert recommendations.company_profile(CompanyFactory()).deminimis_headroom_sek is None

    def test_headroom_of_a_company_without_aid(self):
        # The real function: a company with no awards has the whole ceiling left (EUR 300,000).
        value = recommendations.company_profile(CompanyFactory()).deminimis_headroom_sek
        assert value is None or value > 0


class TestBulkHeadroom:
    """Many companies' headroom in bulk equals asking ``aid.deminimis_headroom_sek`` one by one."""

    def test_bulk_equals_one_by_one(self, monkeypatch):
        from sim.companies.tests.factories import OwnershipLinkFactory
        from sim.programmes.models import Intervention, InterventionStatus

        project = build.project()
        today = dt.date(2025, 6, 1)
        plain = [CompanyFactory() for _ in range(recommendations.HEADROOM_BULK_FROM)]
        parent, child, sister, minority = CompanyFactory(), CompanyFactory(), CompanyFactory(), CompanyFactory()
        OwnershipLinkFactory(holder=parent, held=child, voting_pct=Decimal("60"), capital_pct=Decimal("60"))
        OwnershipLinkFactory(holder=parent, held=sister, voting_pct=Decimal("40"), capital_pct=Decimal("40"), controls=True)
        OwnershipLinkFactory(holder=parent, held=minority, voting_pct=Decimal("20"), capital_pct=Decimal("20"))

        from sim.stateaid.tests.factories import ExchangeRateFactory, ledger_award_for

        ExchangeRateFactory(date=dt.date(2000, 1, 1), sek_per_eur=Decimal("11"))

        def award(company, amount, on, status=InterventionStatus.APPROVED, state_aid=True):
            intervention = Intervention.objects.create(
                project=project, company=company, title="Insats", status=status, is_state_aid=state_aid,
                aid_amount_sek=Decimal(amount), approved_on=on)
            if status == InterventionStatus.APPROVED:  # approval writes the award into the de minimis ledger
                ledger_award_for(intervention)

        award(child, "1100000", dt.date(2024, 1, 10))  # counts for parent, child and sister
        award(plain[0], "550000", dt.date(2023, 6, 2))  # inside the window (after 2022-06-01)
        award(plain[1], "550000", dt.date(2022, 6, 1))  # the first day outside
        award(plain[2], "550000", dt.date(2025, 1, 1), status=InterventionStatus.DRAFT)  # not granted
        award(plain[3], "550000", dt.date(2025, 1, 1), state_aid=False)
        award(minority, "3300000", dt.date(2025, 5, 1))  # all of it: nothing left
        ids = [c.pk for c in [*plain, parent, child, sister, minority]]
        bulk = recommendations.headroom_for(ids, today)
        one_by_one = {c.pk: aid.deminimis_headroom_sek(c, today) for c in Company.objects.filter(pk__in=ids)}
        assert bulk == one_by_one
        assert bulk[parent.pk] == bulk[child.pk] == bulk[sister.pk] == Decimal("3300000") - Decimal("1100000")
        assert bulk[plain[0].pk] == Decimal("2750000") and bulk[plain[1].pk] == Decimal("3300000")
        assert bulk[minority.pk] == 0

    def test_without_a_rate_everything_is_unknown(self):
        # No rate in the exchange-rate table of the de minimis ledger.
        ids = [CompanyFactory().pk for _ in range(recommendations.HEADROOM_BULK_FROM)]
        assert set(recommendations.headroom_for(ids, TODAY).values()) == {None}


# --- Offer profiles -----------------------------------------------------------------------------


class TestOfferProfiles:
    def test_seats_left_count_accepted_started_and_completed(self):
        project = build.project()
        offer = build.offer(project, "Kurs", capacity=4, focus_areas=["financing", "internationalisation"])
        for status in (ReferralStatus.PROPOSED, ReferralStatus.ACCEPTED, ReferralStatus.STARTED,
                       ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN):
            Referral.objects.create(
                project=project, company=CompanyFactory(), offer=offer, status=status,
                started_on=TODAY if status == ReferralStatus.COMPLETED else None,
                completed_on=TODAY if status == ReferralStatus.COMPLETED else None,
            )
        (profile,) = recommendations.offer_profiles(Offer.objects.filter(pk=offer.pk))
        assert (profile.capacity, profile.capacity_left) == (4, 1)
        assert profile.focus_area_keys == {"financing", "internationalisation"}
        assert profile.title == "Kurs"

    def test_unlimited_and_english_title(self):
        offer = build.offer(build.project(), "Exportstart", title_en="Export start")
        (profile,) = recommendations.offer_profiles(Offer.objects.filter(pk=offer.pk))
        assert profile.capacity_left is None and profile.title == "Export start"

    def test_unreadable_stored_rules_make_the_offer_ineligible(self):
        offer = build.offer(build.project(), eligibility={"sizes": ["small"]})
        (profile,) = recommendations.offer_profiles(Offer.objects.filter(pk=offer.pk))
        assert profile.rules_error.startswith("sizes: unknown rule")
        assert not rules.is_eligible(profile_of(CompanyFactory()), profile, TODAY)


# --- Recommendations for a company ---------------------------------------------------------------


class TestRecommendationsForCompany:
    def test_eligible_ranked_ineligible_with_reasons_inactive_and_other_projects_left_out(self):
        project, other = build.project(), build.project()
        company = CompanyFactory(size_class="small", sni_primary="25620", municipality_id="2380")
        build.need(company, "production_efficiency", 1, "Automate the welding line")
        best = build.offer(project, "Produktionslyftet", focus_areas=["production_efficiency"],
                           eligibility={"sni": ["10-33"]})
        open_offer = build.offer(project, "Öppet seminarium", focus_areas=["financing"])
        too_big = build.offer(project, "Storföretagsprogram", focus_areas=["production_efficiency"],
                              eligibility={"size_classes": ["large"]})
        build.offer(project, "Stängt", active=False)
        build.offer(other, "Annat projekt")
        result = recommendations.recommendations_for_company(company, recommendations.recommendable_offers([project]))
        assert [r.offer.id for r in result.eligible] == [best.pk, open_offer.pk]
        assert [r.offer.id for r in result.ineligible] == [too_big.pk]
        assert result.eligible[0].explanation == (
            "meets need “Automate the welding line” in focus area Production efficiency; "
            "eligible because SNI 25.620 is in 10–33")
        assert result.ineligible[0].explanation.endswith(
            "not eligible: size class small is not allowed (only large)")
        rows = result.rows(result.eligible)
        assert [(row.rank, row.offer.pk) for row in rows] == [(1, best.pk), (2, open_offer.pk)]

    def test_score_rule_without_assessment(self, advisor):
        project = build.project()
        company = CompanyFactory()
        rule = {"scores": [{"instrument": DIGITAL, "dimension": "automation_and_ai", "max": 60}]}
        build.offer(project, "Digitaliseringslyftet", eligibility=rule)
        result = recommendations.recommendations_for_company(company, recommendations.recommendable_offers([project]))
        assert result.ineligible[0].explanation.endswith("not eligible: no completed digital maturity assessment")
        completed_assessment(advisor, company, DIGITAL, level=2)
        result = recommendations.recommendations_for_company(company, recommendations.recommendable_offers([project]))
        assert len(result.eligible) == 1
        assert "Automation and artificial intelligence score" in result.eligible[0].explanation

    def test_headroom_looked_up_only_when_an_offer_requires_it(self, monkeypatch):
        project = build.project()
        company = CompanyFactory()
        build.offer(project, "Utan krav")

        def fail(c, on_date):
            raise AssertionError("not needed")

        monkeypatch.setattr(aid, "deminimis_headroom_sek", fail)
        recommendations.recommendations_for_company(company, recommendations.recommendable_offers([project]))
        build.offer(project, "Med krav", eligibility={"deminimis_headroom_sek": "100000"})
        monkeypatch.setattr(aid, "deminimis_headroom_sek", lambda c, on_date: Decimal("50000"))
        result = recommendations.recommendations_for_company(company, recommendations.recommendable_offers([project]))
        assert result.ineligible[0].explanation.endswith(
            "de minimis headroom 50\u00a0000 SEK is less than the required 100\u00a0000 SEK")


# --- Companies an offer suits --------------------------------------------------------------------


@pytest.fixture
def area():
    """A project serving Östersund and Krokom, with companies inside and outside."""
    project = build.project(counties=["23"], municipalities=["2380", "2309"])
    companies = {
        "weld": CompanyFactory(name="Svets AB", size_class="small", sni_primary="25620", municipality_id="2380"),
        "wood": CompanyFactory(name="Trä AB", size_class="micro", sni_primary="16230", municipality_id="2309"),
        "shop": CompanyFactory(name="Butik AB", size_class="small", sni_primary="47110", municipality_id="2380"),
        "big": CompanyFactory(name="Stor AB", size_class="large", sni_primary="28110", municipality_id="2380"),
        "far": CompanyFactory(name="Åre Verkstad AB", size_class="small", sni_primary="25620", municipality_id="2321"),
        "gone": CompanyFactory(name="Arkiverad AB", size_class="small", sni_primary="25620", municipality_id="2380",
                               status=CompanyStatus.ARCHIVED),
    }
    build.need(companies["weld"], "production_efficiency", 1, "Automate")
    build.need(companies["wood"], "production_efficiency", 3, "Set-up times")
    build.need(companies["big"], "production_efficiency", 1, "Robots")
    offer = build.offer(project, "Produktionslyftet", focus_areas=["production_efficiency"],
                        eligibility={"size_classes": ["micro", "small", "medium"], "sni": ["10-33"]})
    return project, companies, offer


def names(result):
    return [row.profile.name for row in result.rows]


class TestSuitedCompanies:
    def test_ranked_within_the_project_area(self, area, advisor):
        _project, _companies, offer = area
        result = recommendations.suited_companies(advisor, offer, recommendations.SuitedFilters.from_params({"eligible": "all"}))
        assert names(result) == ["Svets AB", "Trä AB", "Stor AB", "Butik AB"]
        assert [row.rank for row in result.rows] == [1, 2, None, None]
        assert (result.considered, result.eligible_count, result.area_limited) == (4, 2, True)
        explained = recommendations.explain_rows(result, result.rows[:3])
        assert explained[0].explanation.startswith("meets need “Automate” in focus area Production efficiency;")
        assert explained[2].explanation.endswith("not eligible: size class large is not allowed (only micro, small, medium-sized)")
        assert explained[0].municipality_name == "Östersund"

    def test_default_shows_eligible_only(self, area, advisor):
        result = recommendations.suited_companies(advisor, area[2], recommendations.SuitedFilters.from_params({}))
        assert names(result) == ["Svets AB", "Trä AB"]

    @pytest.mark.parametrize(("params", "expected"), [
        ({"municipality": "2309"}, ["Trä AB"]),
        ({"size_class": "small", "eligible": "all"}, ["Svets AB", "Butik AB"]),
        ({"sni": "25.6"}, ["Svets AB"]),
        ({"sni": "16", "eligible": "no"}, []),
        ({"min_fit": "40"}, ["Svets AB"]),
        ({"eligible": "no"}, ["Stor AB", "Butik AB"]),
        ({"target_group": "yes", "eligible": "all"}, ["Svets AB", "Trä AB", "Stor AB"]),
        ({"target_group": "no", "eligible": "all"}, ["Butik AB"]),
    ])
    def test_filters(self, area, advisor, params, expected):
        result = recommendations.suited_companies(advisor, area[2], recommendations.SuitedFilters.from_params(params))
        assert names(result) == expected

    def test_rank_is_kept_when_filtered(self, area, advisor):
        result = recommendations.suited_companies(advisor, area[2], recommendations.SuitedFilters.from_params({"municipality": "2309"}))
        assert [row.rank for row in result.rows] == [1]  # the only eligible company of Krokom

    def test_project_counties_when_no_municipality_is_named(self, area, advisor):
        project, _companies, offer = area
        project.municipalities.clear()
        result = recommendations.suited_companies(advisor, offer, recommendations.SuitedFilters.from_params({"eligible": "all"}))
        assert "Åre Verkstad AB" in names(result) and "Arkiverad AB" not in names(result)

    def test_whole_register_when_the_project_names_no_area(self, area, advisor):
        project, _companies, offer = area
        project.municipalities.clear()
        project.counties.clear()
        far = CompanyFactory(name="Sundsvalls Gjuteri AB", size_class="small", sni_primary="24510", municipality_id="2281")
        result = recommendations.suited_companies(advisor, offer, recommendations.SuitedFilters.from_params({}))
        assert far.name in names(result) and not result.area_limited

    def test_only_companies_the_user_may_see(self, area, make_user):
        _project, companies, offer = area
        representative = make_user(Role.COMPANY_REPRESENTATIVE)
        CompanyRepresentativeFactory(user=representative, company=companies["wood"])
        result = recommendations.suited_companies(representative, offer, recommendations.SuitedFilters.from_params({}))
        assert names(result) == ["Trä AB"]

    def test_headroom_looked_up_for_candidates_only(self, area, advisor, monkeypatch):
        _project, companies, offer = area
        offer.eligibility = {**offer.eligibility, "deminimis_headroom_sek": "100000"}
        offer.save()
        asked = []

        def headroom(company, on_date):
            asked.append(company.name)
            return Decimal("150000") if company.name == "Svets AB" else Decimal("1000")

        monkeypatch.setattr(aid, "deminimis_headroom_sek", headroom)
        result = recommendations.suited_companies(advisor, offer, recommendations.SuitedFilters.from_params({"eligible": "all"}))
        assert sorted(asked) == ["Svets AB", "Trä AB"]  # the two passing every other rule
        assert [(row.profile.name, row.eligible) for row in result.rows] == [
            ("Svets AB", True), ("Stor AB", False), ("Trä AB", False), ("Butik AB", False)]
        explained = recommendations.explain_rows(result, result.rows)
        assert "de minimis headroom 1\u00a0000 SEK is less than" in explained[2].explanation
        # Looked up for the rows shown too, so that their reasons are complete.
        assert "de minimis headroom 1\u00a0000 SEK is less than" in explained[1].explanation
        assert sorted(asked) == ["Butik AB", "Stor AB", "Svets AB", "Trä AB"]

    def test_filter_errors(self):
        filters = recommendations.SuitedFilters.from_params({
            "municipality": "Östersund", "size_class": "huge", "sni": "x", "target_group": "maybe", "min_fit": "101",
            "eligible": "some",
        })
        assert set(filters.errors) == {"municipality", "size_class", "sni", "target_group", "min_fit", "eligible"}
        assert filters.as_query() == {}
        assert recommendations.SuitedFilters.from_params({"min_fit": "12,5"}).min_fit_value == 12.5


def test_rank_matrix(area):
    _project, companies, offer = area
    profiles = recommendations.company_profiles(
        type(companies["weld"]).objects.filter(pk__in=[companies["weld"].pk, companies["big"].pk]))
    second = build.offer(offer.project, "Öppet", focus_areas=["financing"])
    offer_list = recommendations.offer_profiles(Offer.objects.filter(pk__in=[offer.pk, second.pk]))
    matrix = recommendations.rank_matrix(profiles, offer_list, TODAY)
    assert [item[2] for item in matrix[companies["weld"].pk]] == [offer.pk, second.pk]
    assert [item[:2] for item in matrix[companies["big"].pk]] == [(True, 0.0), (False, 40.0)]


# --- Offer services -------------------------------------------------------------------------------


def offer_data(**overrides):
    data = {"title_sv": "Produktionslyftet", "title_en": "Production lift", "kind": Offer.Kind.PROGRAMME,
            "support_form": "non_financial", "focus_areas": ["production_efficiency"],
            "eligibility": {"sni": ["10 - 33", "62"], "size_classes": ["small"]}}
    data.update(overrides)
    return data


class TestOfferServices:
    def test_create_normalises_the_rules_and_audits(self, advisor):
        project = build.project()
        offer = offer_services.offer_create(advisor, project, offer_data())
        assert offer.eligibility == {"size_classes": ["small"], "sni": ["10-33", "62"]}
        assert list(offer.focus_areas.values_list("key", flat=True)) == ["production_efficiency"]
        event = AuditEvent.objects.get(object_type="programmes.offer", object_id=str(offer.pk))
        assert event.action == "create" and event.actor == advisor
        assert event.changes["eligibility"]["after"] == offer.eligibility
        assert event.changes["focus_areas"]["after"] == ["production_efficiency"]

    def test_unknown_reference_data_is_refused(self, advisor):
        project = build.project()
        bad = {"counties": ["99"], "municipalities": ["0000"],
               "scores": [{"instrument": DIGITAL, "dimension": "nonsense", "min": 1},
                          {"instrument": "no-such-instrument", "dimension": "x", "min": 1}]}
        with pytest.raises(ValidationError) as caught:
            offer_services.offer_create(advisor, project, offer_data(eligibility=bad))
        messages = caught.value.message_dict["eligibility"]
        assert messages == [
            "counties: no such county: 99", "municipalities: no such municipality: 0000",
            "scores[0].dimension: Digital maturity has no dimension “nonsense”",
            "scores[1].instrument: no published instrument “no-such-instrument”",
        ]
        assert not Offer.objects.exists()

    def test_shape_errors_are_listed(self, advisor):
        with pytest.raises(ValidationError) as caught:
            offer_services.offer_create(advisor, build.project(), offer_data(eligibility={"sni": ["3x"], "target_group": "ja"}))
        assert caught.value.message_dict["eligibility"] == [
            "sni[0]: “3x” is not an SNI code or a range such as 10-33", "target_group: must be true or false"]

    def test_focus_areas_must_be_the_projects(self, advisor):
        project = build.project(focus_areas=["financing"])
        with pytest.raises(ValidationError) as caught:
            offer_services.offer_create(advisor, project, offer_data())
        assert caught.value.message_dict["focus_areas"] == ["Not a focus area of the project: production_efficiency"]
        with pytest.raises(ValidationError):
            offer_services.offer_create(advisor, project, offer_data(focus_areas=["nope"]))

    def test_model_rules(self, advisor):
        project = build.project()
        with pytest.raises(ValidationError) as caught:
            offer_services.offer_create(advisor, project, offer_data(
                available_from=dt.date(2025, 5, 1), available_to=dt.date(2025, 4, 1), kind="seminar", title_sv=""))
        assert {"kind", "title_sv", "__all__"} <= set(caught.value.message_dict)
        with pytest.raises(ValidationError) as caught:
            offer_services.offer_create(advisor, project, offer_data(aid_scheme="de minimis"))
        assert "aid_scheme" in caught.value.message_dict
        with pytest.raises(ValidationError):
            offer_services.offer_create(advisor, project, offer_data(provider=987654))

    def test_update_audits_only_changes(self, advisor):
        offer = offer_services.offer_create(advisor, build.project(), offer_data())
        offer_services.offer_update(advisor, offer, offer_data())
        assert AuditEvent.objects.filter(object_id=str(offer.pk), action="update").count() == 0
        offer_services.offer_update(advisor, offer, {"eligibility": {"target_group": True}, "focus_areas": ["financing"],
                                                     "capacity": 10})
        event = AuditEvent.objects.get(object_id=str(offer.pk), action="update")
        assert set(event.changes) == {"eligibility", "focus_areas", "capacity"}
        offer.refresh_from_db()
        assert offer.eligibility == {"target_group": True}
        assert list(offer.focus_areas.values_list("key", flat=True)) == ["financing"]

    def test_set_active(self, advisor):
        offer = offer_services.offer_create(advisor, build.project(), offer_data())
        offer_services.offer_set_active(advisor, offer, False)
        offer_services.offer_set_active(advisor, offer, False)  # no change, no event
        offer.refresh_from_db()
        assert not offer.active
        events = AuditEvent.objects.filter(object_id=str(offer.pk), action="update")
        assert [(e.changes, e.message) for e in events] == [
            ({"active": {"before": True, "after": False}}, "Closed for referrals.")]
