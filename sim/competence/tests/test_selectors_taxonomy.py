"""Reads of the taxonomy (sim/competence/selectors_taxonomy.py): search, browse, broader/narrower."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from sim.competence import selectors_taxonomy as sel
from sim.competence.selectors_taxonomy import ConceptFilters
from sim.competence.taxonomy import DEFAULT_NAMESPACE

from .factories import ConceptFactory, SkillFactory, load_default_taxonomy

pytestmark = pytest.mark.django_db


@pytest.fixture
def welding():
    area = SkillFactory(preferred_label_sv="Svetsning och fogning", preferred_label_en="Welding and joining")
    mig = SkillFactory(preferred_label_sv="MIG/MAG-svetsning", preferred_label_en="MIG/MAG welding",
                       alt_labels_sv=["MAG-svetsning", "trådsvetsning"], broader=[area])
    mig_only = SkillFactory(preferred_label_sv="MIG-svetsning", preferred_label_en="MIG welding", broader=[mig])
    tig = SkillFactory(preferred_label_sv="TIG-svetsning", preferred_label_en="TIG welding",
                       alt_labels_sv=["argonsvetsning"], alt_labels_en=["GTAW"], broader=[area])
    welder = ConceptFactory(preferred_label_sv="Svetsare", preferred_label_en="Welder", alt_labels_sv=["svetsare MIG/MAG"])
    operator = ConceptFactory(preferred_label_sv="CNC-operatör", preferred_label_en="CNC operator",
                              alt_labels_sv=["fleroperationsoperatör"])
    return {"area": area, "mig": mig, "mig_only": mig_only, "tig": tig, "welder": welder, "operator": operator}


def test_search_ranks_exact_then_prefix_then_contains(welding):
    assert sel.concept_search("mig-svetsning") == [welding["mig_only"]]
    assert sel.concept_search("mag-svetsning") == [welding["mig"]]  # an alternative label
    found = sel.concept_search("svetsning", kind="skill")
    # "Svetsning och fogning" starts with the query, the others only contain it (alphabetical then)
    assert found == [welding["area"], welding["mig_only"], welding["mig"], welding["tig"]]
    assert sel.concept_search("mig/mag-svetsning") == [welding["mig"]]
    assert sel.concept_search("svetsare") == [welding["welder"]]


def test_search_finds_alternative_labels_in_both_languages_and_non_ascii(welding):
    assert sel.concept_search("argonsvetsning") == [welding["tig"]]
    assert sel.concept_search("gtaw") == [welding["tig"]]
    assert sel.concept_search("fleroperationsoperatör") == [welding["operator"]]
    assert sel.concept_search("OPERATÖR") == [welding["operator"]]
    assert sel.concept_search("FLEROPERATIONSOPERATÖR") == [welding["operator"]]
    assert sel.concept_search("svetsare mig/mag") == [welding["welder"]]
    assert sel.concept_search("   ") == []


def test_search_by_kind_limit_and_inactive(welding):
    assert sel.concept_search("svets", kind="occupation") == [welding["welder"]]
    assert len(sel.concept_search("svets", limit=2)) == 2
    welding["tig"].active = False
    welding["tig"].save()
    assert welding["tig"] not in sel.concept_search("svetsning")


def test_concept_list_filters(welding):
    filters = ConceptFilters.from_params(QueryDict("q=&kind=occupation"))
    assert list(sel.concept_list(filters)) == [welding["operator"], welding["welder"]]
    welding["welder"].active = False
    welding["welder"].save()
    assert list(sel.concept_list(filters)) == [welding["operator"]]
    with_inactive = ConceptFilters.from_params(QueryDict("kind=occupation&inactive=1"))
    assert len(sel.concept_list(with_inactive)) == 2
    assert with_inactive.as_query() == {"kind": "occupation", "inactive": "1"}
    searched = ConceptFilters.from_params(QueryDict("q=%20%20tig%20&kind=nonsense"))
    assert searched.query == "tig" and searched.kind == ""
    assert sel.concept_list(searched) == [welding["tig"]]


def test_lookups_and_counts(welding):
    assert sel.concept_by_uri(welding["tig"].uri) == welding["tig"]
    assert sel.concept_by_uri("https://example.org/none") is None
    detail = sel.concept_detail(welding["mig"].pk)
    assert list(detail.broader.all()) == [welding["area"]] and list(detail.narrower.all()) == [welding["mig_only"]]
    assert sel.concept_detail(0) is None
    assert sel.kind_counts() == {"occupation": 2, "skill": 4}


def test_broader_and_narrower(welding):
    mig_only, mig, area = welding["mig_only"], welding["mig"], welding["area"]
    assert sel.ancestors(mig_only) == [mig, area]
    assert sel.ancestors(area.pk) == []
    assert sel.broader_path(mig_only) == [area, mig, mig_only]
    assert set(sel.descendants(area)) == {mig, welding["tig"], mig_only}
    assert sel.descendants(area)[-1] == mig_only  # nearest first
    assert sel.broader_map([mig_only.pk]) == {mig_only.pk: [mig.pk], mig.pk: [area.pk]}
    assert sel.broader_map()[welding["tig"].pk] == [area.pk]


def test_roll_up_and_depth(welding):
    ids = [welding[k].pk for k in ("mig_only", "mig", "tig", "area", "welder")]
    top = welding["area"].pk
    assert sel.roll_up(ids) == {ids[0]: top, ids[1]: top, ids[2]: top, top: top, ids[4]: ids[4]}
    assert sel.roll_up(ids, level=1)[ids[0]] == welding["mig"].pk
    assert sel.depth_of(ids) == {ids[0]: 2, ids[1]: 1, ids[2]: 1, top: 0, ids[4]: 0}


def test_roll_up_in_the_default_taxonomy():
    load_default_taxonomy()
    cnc = sel.concept_by_uri(DEFAULT_NAMESPACE + "occupation/cnc-operator")
    plc = sel.concept_by_uri(DEFAULT_NAMESPACE + "skill/plc-siemens")
    rolled = sel.roll_up([cnc.pk, plc.pk])
    assert sel.concept_detail(rolled[cnc.pk]).uri == "http://data.europa.eu/esco/isco/C7"
    assert sel.concept_detail(rolled[plc.pk]).uri == DEFAULT_NAMESPACE + "skill/area-automation"
    assert [c.preferred_label_en for c in sel.broader_path(plc)] == [
        "Automation and control systems", "PLC programming", "Siemens TIA Portal",
    ]
    assert sel.concept_search("automationstekniker plc")[0].uri == DEFAULT_NAMESPACE + "occupation/automation-technician"
