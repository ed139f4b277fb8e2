"""Eligibility and fit rules (pure): every rule, the JSON format, worked examples, properties."""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.programmes import rules
from sim.programmes.rules import (
    FAIL,
    PASS,
    UNKNOWN,
    CompanyProfile,
    EligibilityError,
    EligibilityRules,
    Labels,
    NeedItem,
    OfferProfile,
    ScoreRule,
    SniRange,
)

TODAY = dt.date(2025, 6, 1)
GROWTH = "sim-growth-interview"
DIGITAL = "digital-maturity"

LABELS = Labels(
    focus_areas={"production_efficiency": "Production efficiency", "internationalisation": "Internationalisation",
                 "financing": "Financing", "service_addition": "Service addition"},
    instruments={DIGITAL: "Digital maturity", GROWTH: "SIM growth interview"},
    dimensions={(DIGITAL, "automation_and_ai"): "Automation and artificial intelligence",
                (DIGITAL, "data_management"): "Data management"},
    counties={"23": "Jämtlands län", "22": "Västernorrlands län"},
    municipalities={"2380": "Östersund", "2281": "Sundsvall"},
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def company(**kwargs) -> CompanyProfile:
    defaults = {"id": 1, "name": "Storsjöns Mekaniska AB", "org_number": "5560000001", "size_class": "small",
                "sni": "25620", "county": "23", "municipality": "2380", "in_target_group": True}
    defaults.update(kwargs)
    return CompanyProfile(**defaults)


def offer(eligibility=None, **kwargs) -> OfferProfile:
    defaults = {"id": 1, "title": "Produktionslyftet", "focus_area_keys": frozenset({"production_efficiency"})}
    defaults.update(kwargs)
    if isinstance(eligibility, dict):
        eligibility = rules.parse_eligibility(eligibility)
    return OfferProfile(eligibility=eligibility or EligibilityRules(), **defaults)


def outcome(result, rule):
    return [(c.outcome, c.message) for c in result.checks if c.rule == rule]


# --- Each rule --------------------------------------------------------------------------------


class TestSizeClass:
    RULES = {"size_classes": ["micro", "small"]}

    def test_allowed(self):
        result = rules.evaluate(company(size_class="small"), offer(self.RULES), TODAY)
        assert result.eligible
        assert outcome(result, "size_class") == [(PASS, "size class small is allowed")]

    def test_not_allowed(self):
        result = rules.evaluate(company(size_class="large"), offer(self.RULES), TODAY)
        assert not result.eligible
        assert outcome(result, "size_class") == [(FAIL, "size class large is not allowed (only micro, small)")]

    def test_unknown_size_is_not_eligible(self):
        result = rules.evaluate(company(size_class=""), offer(self.RULES), TODAY)
        assert not result.eligible
        assert outcome(result, "size_class") == [(UNKNOWN, "the company's size class is not known")]

    def test_no_rule_no_check(self):
        assert outcome(rules.evaluate(company(size_class=""), offer(), TODAY), "size_class") == []


class TestSni:
    RULES = {"sni": ["10-33", "62", "71.12"]}

    @pytest.mark.parametrize(("code", "text"), [
        ("25620", "SNI 25.620 is in 10–33"), ("10110", "SNI 10.110 is in 10–33"), ("33120", "SNI 33.120 is in 10–33"),
        ("62010", "SNI 62.010 is in 62"), ("71121", "SNI 71.121 is in 71.12"), ("7112", "SNI 71.12 is in 71.12"),
    ])
    def test_in_range(self, code, text):
        result = rules.evaluate(company(sni=code), offer(self.RULES), TODAY)
        assert outcome(result, "sni") == [(PASS, text)]

    @pytest.mark.parametrize("code", ["09100", "34000", "71110", "71200", "63110", "7"])
    def test_outside(self, code):
        result = rules.evaluate(company(sni=code), offer(self.RULES), TODAY)
        assert outcome(result, "sni")[0][0] == FAIL
        assert "is not in 10–33, 62, 71.12" in outcome(result, "sni")[0][1]

    def test_no_code_is_unknown(self):
        assert outcome(rules.evaluate(company(sni=""), offer(self.RULES), TODAY), "sni") == [
            (UNKNOWN, "the company has no SNI code")]

    def test_ranges_of_different_lengths(self):
        span = SniRange("256", "28")
        assert span.matches("25620") and span.matches("28999") and span.matches("27")
        assert not span.matches("25510") and not span.matches("29100")
        assert span.text == "25.6–28"


class TestLocation:
    def test_county_served(self):
        result = rules.evaluate(company(), offer({"counties": ["23"]}), TODAY, LABELS)
        assert outcome(result, "location") == [(PASS, "the company's county Jämtlands län (23) is served")]

    def test_county_not_served(self):
        result = rules.evaluate(company(county="22", municipality="2281"), offer({"counties": ["23"]}), TODAY)
        assert outcome(result, "location") == [(FAIL, "the company's county 22 is not served")]
        assert result.summary == "not eligible: the company's county 22 is not served"

    def test_municipality_served_outside_the_counties(self):
        rules_ = {"counties": ["23"], "municipalities": ["2281"]}
        result = rules.evaluate(company(county="22", municipality="2281"), offer(rules_), TODAY, LABELS)
        assert outcome(result, "location") == [(PASS, "the company's municipality Sundsvall (2281) is served")]

    def test_municipality_not_served(self):
        result = rules.evaluate(company(), offer({"municipalities": ["2281"]}), TODAY, LABELS)
        assert outcome(result, "location") == [(FAIL, "the company's municipality Östersund (2380) is not served")]

    def test_unknown_municipality(self):
        result = rules.evaluate(company(county="", municipality=""), offer({"counties": ["23"]}), TODAY)
        assert outcome(result, "location") == [(UNKNOWN, "the company's municipality is not known")]


class TestTargetGroup:
    def test_member(self):
        assert outcome(rules.evaluate(company(), offer({"target_group": True}), TODAY), "target_group") == [
            (PASS, "the company is in the target group")]

    def test_not_member(self):
        result = rules.evaluate(company(in_target_group=False), offer({"target_group": True}), TODAY)
        assert outcome(result, "target_group") == [(FAIL, "the company is not in the target group")]

    def test_false_is_no_rule(self):
        assert rules.evaluate(company(in_target_group=False), offer({"target_group": False}), TODAY).eligible


class TestScores:
    RULES = {"scores": [{"instrument": DIGITAL, "dimension": "automation_and_ai", "min": 10, "max": 50}]}

    def test_within(self):
        profile = company(scores={(DIGITAL, "automation_and_ai"): 30.0})
        result = rules.evaluate(profile, offer(self.RULES), TODAY, LABELS)
        assert outcome(result, "score") == [(PASS, "Automation and artificial intelligence score 30 is within 10–50")]

    @pytest.mark.parametrize("score", [10.0, 50.0])
    def test_bounds_are_inclusive(self, score):
        assert rules.evaluate(company(scores={(DIGITAL, "automation_and_ai"): score}), offer(self.RULES), TODAY).eligible

    @pytest.mark.parametrize("score", [9.9, 50.1, 80.0])
    def test_outside(self, score):
        result = rules.evaluate(company(scores={(DIGITAL, "automation_and_ai"): score}), offer(self.RULES), TODAY)
        assert outcome(result, "score")[0][0] == FAIL

    def test_no_assessment_is_not_eligible(self):
        result = rules.evaluate(company(), offer(self.RULES), TODAY, LABELS)
        assert outcome(result, "score") == [(UNKNOWN, "no completed digital maturity assessment")]
        assert result.summary == "not eligible: no completed digital maturity assessment"

    def test_dimension_without_score(self):
        profile = company(scores={(DIGITAL, "automation_and_ai"): None, (DIGITAL, "data_management"): 40.0})
        result = rules.evaluate(profile, offer(self.RULES), TODAY, LABELS)
        assert outcome(result, "score") == [
            (UNKNOWN, "Automation and artificial intelligence has no score in the latest digital maturity assessment")]

    def test_assessed_instrument_without_that_dimension(self):
        profile = company(scores={(DIGITAL, "data_management"): 40.0})
        assert outcome(rules.evaluate(profile, offer(self.RULES), TODAY), "score")[0][0] == UNKNOWN

    def test_only_a_minimum_or_a_maximum(self):
        at_least = offer({"scores": [{"instrument": DIGITAL, "dimension": "automation_and_ai", "min": 60}]})
        at_most = offer({"scores": [{"instrument": DIGITAL, "dimension": "automation_and_ai", "max": 40.5}]})
        profile = company(scores={(DIGITAL, "automation_and_ai"): 40.5})
        assert outcome(rules.evaluate(profile, at_least, TODAY), "score")[0] == (
            FAIL, "automation_and_ai score 40.5 is not within at least 60")
        assert outcome(rules.evaluate(profile, at_most, TODAY), "score")[0] == (
            PASS, "automation_and_ai score 40.5 is within at most 40.5")


class TestDeminimis:
    RULES = {"deminimis_headroom_sek": "200000"}

    def test_enough(self):
        result = rules.evaluate(company(deminimis_headroom_sek=Decimal("250000")), offer(self.RULES), TODAY)
        assert outcome(result, "deminimis") == [(PASS, "de minimis headroom 250\u00a0000 SEK covers the required 200\u00a0000 SEK")]

    def test_exactly_enough(self):
        assert rules.evaluate(company(deminimis_headroom_sek=Decimal("200000")), offer(self.RULES), TODAY).eligible

    def test_too_little(self):
        result = rules.evaluate(company(deminimis_headroom_sek=Decimal("199999.50")), offer(self.RULES), TODAY)
        assert outcome(result, "deminimis") == [
            (FAIL, "de minimis headroom 199\u00a0999.50 SEK is less than the required 200\u00a0000 SEK")]

    def test_unknown_headroom(self):
        result = rules.evaluate(company(deminimis_headroom_sek=None), offer(self.RULES), TODAY)
        assert outcome(result, "deminimis") == [(UNKNOWN, "the de minimis headroom is not known")]
        assert not result.eligible


class TestAvailability:
    def test_no_seats_left(self):
        result = rules.evaluate(company(), offer(capacity=12, capacity_left=0), TODAY)
        assert outcome(result, "capacity") == [(FAIL, "all 12 seats are taken")]

    def test_seats_left_and_unlimited_are_not_reported(self):
        assert rules.evaluate(company(), offer(capacity=12, capacity_left=1), TODAY).checks == ()
        assert rules.evaluate(company(), offer(capacity=None, capacity_left=None), TODAY).checks == ()

    def test_closed(self):
        result = rules.evaluate(company(), offer(available_to=dt.date(2025, 5, 31)), TODAY)
        assert outcome(result, "dates") == [(FAIL, "the offer closed on 2025-05-31")]

    def test_last_day_and_future_start_are_open(self):
        assert rules.evaluate(company(), offer(available_to=TODAY), TODAY).eligible
        assert rules.evaluate(company(), offer(available_from=dt.date(2026, 1, 1)), TODAY).eligible

    def test_unreadable_rules_exclude_everyone(self):
        result = rules.evaluate(company(), offer(rules_error="sni[0]: bad"), TODAY)
        assert not result.eligible
        assert result.summary == "not eligible: the offer's eligibility rules cannot be read (sni[0]: bad)"
        assert not rules.is_eligible(company(), offer(rules_error="x"), TODAY)


class TestSummary:
    def test_open_offer(self):
        result = rules.evaluate(company(), offer(), TODAY)
        assert result.eligible and result.summary == "eligible: open to every company"

    def test_eligible_lists_every_rule(self):
        result = rules.evaluate(company(), offer({"size_classes": ["small"], "sni": ["10-33"]}), TODAY)
        assert result.summary == "eligible because size class small is allowed; SNI 25.620 is in 10–33"

    def test_failures_before_unknowns(self):
        rules_ = {"size_classes": ["micro"], "deminimis_headroom_sek": 1000, "target_group": True}
        result = rules.evaluate(company(in_target_group=False), offer(rules_), TODAY)
        assert result.summary == (
            "not eligible: size class small is not allowed (only micro); the company is not in the target group; "
            "the de minimis headroom is not known"
        )
        assert [c.rule for c in result.failed] == ["size_class", "target_group"]
        assert [c.rule for c in result.unknown] == ["deminimis"]
        assert result.passed == []


# --- The JSON format --------------------------------------------------------------------------


class TestParse:
    def test_full_example_round_trip(self):
        data = {
            "size_classes": ["small", "micro"], "sni": ["10 - 33", "62", "7112"], "counties": ["23"],
            "municipalities": ["2281"], "scores": [{"instrument": DIGITAL, "dimension": "automation_and_ai", "min": "0", "max": 40}],
            "deminimis_headroom_sek": 200000, "target_group": True,
        }
        stored = rules.eligibility_to_json(rules.parse_eligibility(data))
        assert stored == {
            "size_classes": ["micro", "small"], "sni": ["10-33", "62", "71.12"], "counties": ["23"],
            "municipalities": ["2281"], "scores": [{"instrument": DIGITAL, "dimension": "automation_and_ai", "min": 0, "max": 40}],
            "deminimis_headroom_sek": "200000", "target_group": True,
        }
        assert rules.parse_eligibility(stored) == rules.parse_eligibility(data)

    @pytest.mark.parametrize("empty", [None, {}, {"sni": [], "size_classes": [], "target_group": False, "deminimis_headroom_sek": ""}])
    def test_empty_is_open(self, empty):
        parsed = rules.parse_eligibility(empty)
        assert parsed.is_open
        assert rules.eligibility_to_json(parsed) == {}

    def test_zero_headroom_is_no_requirement(self):
        assert rules.parse_eligibility({"deminimis_headroom_sek": "0"}).deminimis_headroom_sek is None

    @pytest.mark.parametrize(("data", "path", "fragment"), [
        ([], "", "must be a JSON object"),
        ({"sizes": ["small"]}, "sizes", "unknown rule"),
        ({"size_classes": ["tiny"]}, "size_classes[0]", "must be one of"),
        ({"size_classes": "small"}, "size_classes", "must be a list"),
        ({"sni": ["33-10"]}, "sni[0]", "ends before it starts"),
        ({"sni": ["2"]}, "sni[0]", "is not an SNI code"),
        ({"sni": ["25.6200"]}, "sni[0]", "is not an SNI code"),
        ({"sni": 25}, "sni", "must be a list"),
        ({"counties": ["Z"]}, "counties[0]", "two-digit county code"),
        ({"municipalities": ["238"]}, "municipalities[0]", "four-digit municipality code"),
        ({"scores": {}}, "scores", "must be a list"),
        ({"scores": ["x"]}, "scores[0]", "must be an object"),
        ({"scores": [{"instrument": DIGITAL, "dimension": "a"}]}, "scores[0]", "a minimum, a maximum or both"),
        ({"scores": [{"instrument": DIGITAL, "dimension": "a", "min": 101}]}, "scores[0].min", "from 0 to 100"),
        ({"scores": [{"instrument": DIGITAL, "dimension": "a", "min": True}]}, "scores[0].min", "from 0 to 100"),
        ({"scores": [{"instrument": DIGITAL, "dimension": "a", "max": 10.25}]}, "scores[0].max", "one decimal"),
        ({"scores": [{"instrument": DIGITAL, "dimension": "a", "min": 60, "max": 50}]}, "scores[0]", "above the maximum"),
        ({"scores": [{"instrument": "Bad Key", "dimension": "a", "min": 1}]}, "scores[0].instrument", "instrument key"),
        ({"scores": [{"instrument": DIGITAL, "dimension": "a", "min": 1, "weight": 2}]}, "scores[0].weight", "unknown key"),
        ({"scores": [{"instrument": DIGITAL, "dimension": "a", "min": 1}, {"instrument": DIGITAL, "dimension": "a", "max": 9}]},
         "scores[1]", "only one rule per dimension"),
        ({"deminimis_headroom_sek": "-5"}, "deminimis_headroom_sek", "amount in SEK"),
        ({"deminimis_headroom_sek": "12.345"}, "deminimis_headroom_sek", "amount in SEK"),
        ({"deminimis_headroom_sek": True}, "deminimis_headroom_sek", "amount in SEK"),
        ({"target_group": "yes"}, "target_group", "true or false"),
    ])
    def test_errors_name_the_path(self, data, path, fragment):
        with pytest.raises(EligibilityError) as caught:
            rules.parse_eligibility(data)
        assert any(p == path and fragment in message for p, message in caught.value.issues), caught.value.issues

    def test_every_problem_is_reported(self):
        with pytest.raises(EligibilityError) as caught:
            rules.parse_eligibility({"size_classes": ["tiny"], "sni": ["x"], "target_group": 1})
        assert [path for path, _message in caught.value.issues] == ["size_classes[0]", "sni[0]", "target_group"]

    def test_sni_text(self):
        assert rules.parse_sni_ranges("10-33, 62, 71.12") == (SniRange("10", "33"), SniRange("62", "62"), SniRange("7112", "7112"))
        assert rules.parse_sni_ranges("10 – 33;62\n71.12 62") == rules.parse_sni_ranges("10-33, 62, 71.12")
        assert rules.format_sni_ranges(rules.parse_sni_ranges(" 25.6-28 , 2562 ")) == "25.6-28, 25.62"
        assert rules.parse_sni_ranges("") == ()
        with pytest.raises(EligibilityError, match="is not an SNI code"):
            rules.parse_sni_ranges("10-33, abc")

    def test_describe(self):
        parsed = rules.parse_eligibility({
            "size_classes": ["small", "micro"], "sni": ["10-33"], "counties": ["23"], "municipalities": ["2281"],
            "scores": [{"instrument": DIGITAL, "dimension": "automation_and_ai", "max": 40}],
            "deminimis_headroom_sek": "150000", "target_group": True,
        })
        assert rules.describe_eligibility(parsed, LABELS) == [
            "Size class: micro, small",
            "SNI codes: 10–33",
            "Located in: Jämtlands län (23), Sundsvall (2281)",
            "Only companies in the target group",
            "Digital maturity, Automation and artificial intelligence: score at most 40",
            "De minimis headroom of at least 150\u00a0000 SEK",
        ]
        assert rules.describe_eligibility(EligibilityRules()) == []


# --- Fit: worked examples ---------------------------------------------------------------------

#: The worked example of docs/domain-rules.md ("Eligibility and recommendations").
EXAMPLE_COMPANY = company(
    deminimis_headroom_sek=Decimal("250000"),
    needs=(
        NeedItem("production_efficiency", 1, "Automate the welding line"),
        NeedItem("internationalisation", 2, "Find distributors in Norway"),
        NeedItem("production_efficiency", 3, "Shorten set-up times"),
    ),
    scores={(GROWTH, "production_efficiency"): 32.0, (GROWTH, "internationalisation"): 45.0, (GROWTH, "financing"): 70.0,
            (DIGITAL, "automation_and_ai"): 30.0},
    focus_area_scores={"production_efficiency": 32.0, "internationalisation": 45.0, "financing": 70.0},
)
EXAMPLE_OFFERS = [
    offer({"size_classes": ["micro", "small", "medium"], "sni": ["10-33"], "counties": ["23"],
           "scores": [{"instrument": DIGITAL, "dimension": "automation_and_ai", "max": 50}]},
          id=1, title="Produktionslyftet", focus_area_keys=frozenset({"production_efficiency"})),
    offer({"target_group": True, "deminimis_headroom_sek": "100000"},
          id=2, title="Exportstart", focus_area_keys=frozenset({"internationalisation"})),
    offer({"size_classes": ["micro"]}, id=3, title="Finansieringscoachning", focus_area_keys=frozenset({"financing"})),
    offer({"counties": ["22"]}, id=4, title="Automation Mitt", focus_area_keys=frozenset({"production_efficiency"})),
]


class TestWorkedExample:
    def test_breakdown_of_each_offer(self):
        first = rules.fit_breakdown(EXAMPLE_COMPANY, EXAMPLE_OFFERS[0])
        assert (first.needs_points, first.focus_area_points, first.score_range_points) == (42, 10, 10)
        assert first.low_score_points == pytest.approx(13.6)
        assert rules.display_fit(first.total) == 75.6
        second = rules.fit_breakdown(EXAMPLE_COMPANY, EXAMPLE_OFFERS[1])
        assert (second.needs_points, second.focus_area_points, second.low_score_points, second.score_range_points) == (20, 10, 11.0, 0)
        assert rules.display_fit(rules.fit_score(EXAMPLE_COMPANY, EXAMPLE_OFFERS[2])) == 6.0
        assert rules.display_fit(rules.fit_score(EXAMPLE_COMPANY, EXAMPLE_OFFERS[3])) == 65.6

    def test_ranking_and_explanations(self):
        eligible, ineligible = rules.rank_offers(EXAMPLE_COMPANY, EXAMPLE_OFFERS, TODAY, LABELS)
        assert [(r.offer.title, r.fit) for r in eligible] == [("Produktionslyftet", 75.6), ("Exportstart", 41.0)]
        assert [(r.offer.title, r.fit) for r in ineligible] == [("Automation Mitt", 65.6), ("Finansieringscoachning", 6.0)]
        assert eligible[0].explanation == (
            "meets need “Automate the welding line” in focus area Production efficiency; "
            "meets need “Shorten set-up times” in focus area Production efficiency; "
            "low score in Production efficiency (32 of 100); the company's scores are within the offer's range; "
            "eligible because size class small is allowed; SNI 25.620 is in 10–33; "
            "the company's county Jämtlands län (23) is served; "
            "Automation and artificial intelligence score 30 is within at most 50"
        )
        assert eligible[1].explanation == (
            "meets need “Find distributors in Norway” in focus area Internationalisation; "
            "low score in Internationalisation (45 of 100); eligible because the company is in the target group; "
            "de minimis headroom 250\u00a0000 SEK covers the required 100\u00a0000 SEK"
        )
        assert ineligible[0].explanation.endswith("not eligible: the company's county Jämtlands län (23) is not served")
        assert ineligible[1].explanation == (
            "no open need in the offer's focus areas; low score in Financing (70 of 100); "
            "not eligible: size class small is not allowed (only micro)"
        )


class TestFitParts:
    def test_need_points_by_priority(self):
        for priority, points in [(1, 30), (2, 20), (3, 12), (4, 6), (9, 6)]:
            profile = company(needs=(NeedItem("production_efficiency", priority, "n"),))
            assert rules.fit_breakdown(profile, offer()).needs_points == points

    def test_needs_are_capped(self):
        profile = company(needs=tuple(NeedItem("production_efficiency", 1, f"n{i}") for i in range(3)))
        assert rules.fit_breakdown(profile, offer()).needs_points == rules.NEED_POINTS_CAP == 50

    def test_focus_areas_count_once_each_and_are_capped(self):
        areas = frozenset({"production_efficiency", "internationalisation", "financing"})
        profile = company(needs=(NeedItem("production_efficiency", 4, "a"), NeedItem("production_efficiency", 4, "b"),
                                 NeedItem("internationalisation", 4, "c"), NeedItem("financing", 4, "d")))
        assert rules.fit_breakdown(profile, offer(focus_area_keys=frozenset({"production_efficiency"}))).focus_area_points == 10
        assert rules.fit_breakdown(profile, offer(focus_area_keys=areas)).focus_area_points == 20

    def test_needs_outside_the_focus_areas_and_without_focus_area_do_not_count(self):
        profile = company(needs=(NeedItem("financing", 1, "a"), NeedItem(None, 1, "b")))
        breakdown = rules.fit_breakdown(profile, offer())
        assert breakdown.total == 0 and breakdown.matched_needs == ()

    def test_low_score_takes_the_lowest_of_the_offer_areas(self):
        profile = company(focus_area_scores={"production_efficiency": 80.0, "internationalisation": 20.0, "financing": 0.0})
        two = offer(focus_area_keys=frozenset({"production_efficiency", "internationalisation"}))
        breakdown = rules.fit_breakdown(profile, two)
        assert breakdown.lowest_focus_area == ("internationalisation", 20.0)
        assert breakdown.low_score_points == pytest.approx(16.0)
        assert rules.fit_breakdown(company(focus_area_scores={"production_efficiency": 100.0}), offer()).low_score_points == 0

    def test_score_range_points_need_rules_and_all_within(self):
        rule = {"scores": [{"instrument": DIGITAL, "dimension": "automation_and_ai", "max": 50},
                           {"instrument": DIGITAL, "dimension": "data_management", "min": 20}]}
        inside = company(scores={(DIGITAL, "automation_and_ai"): 40.0, (DIGITAL, "data_management"): 20.0})
        half = company(scores={(DIGITAL, "automation_and_ai"): 40.0})
        assert rules.fit_breakdown(inside, offer(rule)).score_range_points == 10
        assert rules.fit_breakdown(half, offer(rule)).score_range_points == 0
        assert rules.fit_breakdown(inside, offer()).score_range_points == 0

    def test_maximum(self):
        profile = company(
            needs=tuple(NeedItem(area, 1, area) for area in ("production_efficiency", "financing")) * 2,
            focus_area_scores={"production_efficiency": 0.0},
            scores={(DIGITAL, "automation_and_ai"): 0.0},
        )
        top = offer({"scores": [{"instrument": DIGITAL, "dimension": "automation_and_ai", "max": 0}]},
                    focus_area_keys=frozenset({"production_efficiency", "financing"}))
        assert rules.fit_score(profile, top) == rules.FIT_MAX == 100

    def test_explanation_names_at_most_three_needs(self):
        profile = company(needs=tuple(NeedItem("production_efficiency", p, f"need {p}") for p in (5, 1, 2, 3, 4)))
        eligible, _ = rules.rank_offers(profile, [offer()], TODAY)
        assert eligible[0].explanation.startswith(
            "meets need “need 1” in focus area production_efficiency; meets need “need 2” in focus area "
            "production_efficiency; meets need “need 3” in focus area production_efficiency; and 2 more needs;")

    def test_ties_are_broken_by_title_then_id(self):
        offers = [offer(id=3, title="b"), offer(id=2, title="B"), offer(id=1, title="a")]
        eligible, _ = rules.rank_offers(company(), offers, TODAY)
        assert [r.offer.id for r in eligible] == [1, 2, 3]

    def test_rank_companies_puts_eligible_first(self):
        strong = company(id=1, name="Strong", size_class="large", needs=(NeedItem("production_efficiency", 1, "x"),))
        weak = company(id=2, name="Weak", size_class="small")
        mid = company(id=3, name="Mid", size_class="small", needs=(NeedItem("production_efficiency", 3, "y"),))
        rows = rules.rank_companies(offer({"size_classes": ["small"]}), [strong, weak, mid], TODAY)
        assert [(eligible, fit, p.name) for eligible, fit, p in rows] == [
            (True, 22.0, "Mid"), (True, 0.0, "Weak"), (False, 40.0, "Strong")]


# --- Properties -------------------------------------------------------------------------------

AREAS = ["financing", "production_efficiency", "service_addition", "internationalisation", "growth_and_competence"]
DIMENSIONS = [(DIGITAL, "automation_and_ai"), (DIGITAL, "data_management"), (GROWTH, "financing")]

needs_st = st.builds(NeedItem, st.sampled_from([*AREAS, None]), st.integers(1, 6), st.text(min_size=1, max_size=8))
score_st = st.one_of(st.none(), st.integers(0, 1000).map(lambda n: n / 10))


@st.composite
def companies(draw, company_id=None):
    scores = draw(st.dictionaries(st.sampled_from(DIMENSIONS), score_st, max_size=3))
    return CompanyProfile(
        id=company_id if company_id is not None else draw(st.integers(1, 10_000)),
        name=draw(st.text(min_size=1, max_size=6)),
        size_class=draw(st.sampled_from(["", "micro", "small", "medium", "large"])),
        sni=draw(st.sampled_from(["", "10110", "25620", "33120", "46690", "62010", "71121"])),
        county=draw(st.sampled_from(["22", "23"])),
        municipality=draw(st.sampled_from(["", "2281", "2380"])),
        in_target_group=draw(st.booleans()),
        scores=scores,
        needs=tuple(draw(st.lists(needs_st, max_size=6))),
        deminimis_headroom_sek=draw(st.one_of(st.none(), st.integers(0, 400_000).map(Decimal))),
        focus_area_scores=draw(st.dictionaries(st.sampled_from(AREAS), st.integers(0, 1000).map(lambda n: n / 10), max_size=3)),
    )


@st.composite
def eligibility_rules(draw):
    score_rules = []
    for instrument, dimension in draw(st.lists(st.sampled_from(DIMENSIONS), unique=True, max_size=2)):
        low = draw(st.one_of(st.none(), st.integers(0, 100)))
        high = draw(st.one_of(st.none(), st.integers(low or 0, 100)))
        if low is None and high is None:
            high = 50
        score_rules.append(ScoreRule(instrument, dimension, None if low is None else float(low), None if high is None else float(high)))
    return EligibilityRules(
        size_classes=frozenset(draw(st.lists(st.sampled_from(rules.SIZE_CLASSES), max_size=3))),
        sni=tuple(draw(st.lists(st.sampled_from([SniRange("10", "33"), SniRange("62", "62"), SniRange("7112", "7112"),
                                                 SniRange("256", "28")]), unique=True, max_size=2))),
        counties=frozenset(draw(st.lists(st.sampled_from(["22", "23"]), max_size=1))),
        municipalities=frozenset(draw(st.lists(st.sampled_from(["2281", "2380"]), max_size=1))),
        scores=tuple(score_rules),
        deminimis_headroom_sek=draw(st.one_of(st.none(), st.integers(1, 300_000).map(Decimal))),
        target_group=draw(st.booleans()),
    )


@st.composite
def offers(draw, offer_id=None):
    return OfferProfile(
        id=offer_id if offer_id is not None else draw(st.integers(1, 10_000)),
        title=draw(st.text(min_size=1, max_size=6)),
        focus_area_keys=frozenset(draw(st.lists(st.sampled_from(AREAS), max_size=3))),
        eligibility=draw(eligibility_rules()),
        capacity=draw(st.one_of(st.none(), st.integers(0, 20))),
        capacity_left=draw(st.one_of(st.none(), st.integers(-2, 20))),
        available_to=draw(st.one_of(st.none(), st.dates(dt.date(2025, 1, 1), dt.date(2026, 1, 1)))),
    )


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(companies(), offers(), st.sampled_from(AREAS), st.integers(1, 6))
def test_adding_an_unmet_need_in_an_offer_area_never_lowers_its_fit(profile, item, area, priority):
    item = replace(item, focus_area_keys=item.focus_area_keys | {area})
    more = replace(profile, needs=(*profile.needs, NeedItem(area, priority, "new need")))
    assert rules.fit_score(more, item) >= rules.fit_score(profile, item)
    assert rules.is_eligible(more, item, TODAY) == rules.is_eligible(profile, item, TODAY)


@PROPERTY
@given(companies(), st.lists(st.integers(1, 10_000), unique=True, max_size=8).flatmap(
    lambda ids: st.tuples(*[offers(offer_id=i) for i in ids])))
def test_ineligible_never_ranks_among_eligible(profile, offer_list):
    eligible, ineligible = rules.rank_offers(profile, list(offer_list), TODAY)
    assert all(r.eligible for r in eligible) and not any(r.eligible for r in ineligible)
    assert len(eligible) + len(ineligible) == len(offer_list)  # nothing dropped
    assert [r.fit for r in eligible] == sorted((r.fit for r in eligible), reverse=True)
    assert [r.fit for r in ineligible] == sorted((r.fit for r in ineligible), reverse=True)


@PROPERTY
@given(st.lists(st.integers(1, 10_000), unique=True, max_size=8).flatmap(
    lambda ids: st.tuples(*[companies(company_id=i) for i in ids])), offers())
def test_rank_companies_never_mixes_ineligible_among_eligible(company_list, item):
    rows = rules.rank_companies(item, list(company_list), TODAY)
    flags = [eligible for eligible, _fit, _p in rows]
    assert flags == sorted(flags, reverse=True)
    assert len(rows) == len(company_list)


@PROPERTY
@given(companies(), offers(), st.dates(dt.date(2025, 1, 1), dt.date(2026, 6, 1)))
def test_fast_decision_equals_the_explained_one(profile, item, on_date):
    result = rules.evaluate(profile, item, on_date)
    assert rules.is_eligible(profile, item, on_date) == result.eligible
    assert result.summary.startswith("eligible" if result.eligible else "not eligible: ")
    if result.eligible:
        assert not result.failed and not result.unknown
    else:
        assert result.failed or result.unknown


@PROPERTY
@given(companies(), offers())
def test_fit_is_the_sum_of_its_parts_and_bounded(profile, item):
    breakdown = rules.fit_breakdown(profile, item)
    assert rules.fit_score(profile, item) == pytest.approx(breakdown.total)
    assert 0 <= breakdown.total <= rules.FIT_MAX


@PROPERTY
@given(eligibility_rules())
def test_json_round_trip(parsed):
    stored = rules.eligibility_to_json(parsed)
    assert rules.parse_eligibility(stored) == parsed
    assert rules.eligibility_to_json(rules.parse_eligibility(stored)) == stored


@PROPERTY
@given(st.lists(st.integers(1, 10_000), unique=True, max_size=5).flatmap(
    lambda ids: st.tuples(*[companies(company_id=i) for i in ids])),
    st.lists(st.integers(1, 10_000), unique=True, max_size=6).flatmap(lambda ids: st.tuples(*[offers(offer_id=i) for i in ids])),
    st.dates(dt.date(2025, 1, 1), dt.date(2026, 6, 1)))
def test_rank_matrix_equals_one_pair_at_a_time(company_list, offer_list, on_date):
    matrix = rules.rank_matrix(company_list, offer_list, on_date)
    for profile in company_list:
        expected = sorted(
            ((rules.is_eligible(profile, item, on_date), rules.display_fit(rules.fit_score(profile, item)), item.id)
             for item in offer_list),
            key=lambda row: (not row[0], -row[1], row[2]),
        )
        assert matrix[profile.id] == expected


@PROPERTY
@given(st.lists(st.integers(1, 10_000), unique=True, max_size=6).flatmap(
    lambda ids: st.tuples(*[companies(company_id=i) for i in ids])),
    st.lists(st.integers(1, 10_000), unique=True, max_size=5).flatmap(lambda ids: st.tuples(*[offers(offer_id=i) for i in ids])))
def test_headroom_candidates_are_those_only_the_headroom_can_decide(company_list, offer_list):
    expected = {
        p.id for p in company_list
        if any(rules.eligible_except_headroom(p, o, TODAY) for o in offer_list if o.eligibility.deminimis_headroom_sek is not None)
    }
    assert rules.headroom_candidates(company_list, offer_list, TODAY) == expected
