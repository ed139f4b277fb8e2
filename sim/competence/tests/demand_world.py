"""Builders for the needs, offerings and demand-report tests: concepts, companies with needs,
providers with offerings, and a fake matcher (the real one is tested in test_matching.py)."""

from __future__ import annotations

import pytest

from sim.companies.tests.factories import CompanyFactory
from sim.competence import selectors, services
from sim.competence.models import ProviderStaff
from sim.competence.rules import normalise_text
from sim.competence.tests.factories import OccupationFactory


def make_concepts():
    top = OccupationFactory(preferred_label_sv="Hantverksyrken", preferred_label_en="Craft and related trades workers")
    group = OccupationFactory(preferred_label_sv="Metallarbetare", preferred_label_en="Metal workers", broader=[top])
    welder = OccupationFactory(preferred_label_sv="Svetsare MIG/MAG", preferred_label_en="MIG/MAG welder",
                               alt_labels_sv=["MAG-svetsare"], broader=[group])
    cnc = OccupationFactory(preferred_label_sv="CNC-operatör", preferred_label_en="CNC operator", broader=[group])
    plc = OccupationFactory(preferred_label_sv="Automationstekniker", preferred_label_en="Automation technician")
    return {"top": top, "group": group, "welder": welder, "cnc": cnc, "plc": plc}


class FakeSuggestion:
    def __init__(self, concept, score):
        self.concept_id, self.uri, self.label, self.kind, self.score = concept.pk, concept.uri, concept.label, concept.kind, score


def fake_matcher(concepts):
    """Suggests the concepts whose Swedish label words occur in the text, best overlap first."""

    def suggest_concepts(text, *, kind=None, top=10):
        words = set(normalise_text(text).split())
        ranked = []
        for concept in concepts:
            if kind and concept.kind != kind:
                continue
            label_words = set(normalise_text(" ".join(concept.all_labels())).split())
            overlap = len(words & label_words) + sum(1 for w in words for lw in label_words if len(w) > 3 and w[:4] == lw[:4])
            if overlap:
                ranked.append((overlap, concept))
        ranked.sort(key=lambda item: (-item[0], item[1].pk))
        return [FakeSuggestion(concept, round(score / 10, 2)) for score, concept in ranked[:top]]

    return suggest_concepts


@pytest.fixture
def concepts(db, monkeypatch):
    found = make_concepts()
    monkeypatch.setattr(selectors, "_matcher", lambda: fake_matcher(list(found.values())))
    return found


def companies_with_needs(actor, concept, count, *, municipality="2380", kind="recruit", horizon="6-12", people=2):
    companies = []
    for _ in range(count):
        company = CompanyFactory(municipality_id=municipality)
        services.need_create(actor, company, text="svetsare", people=people, kind=kind, horizon=horizon,
                             concept_ids=[concept.pk])
        companies.append(company)
    return companies


def provider_with_staff(user, name="Yrkeshögskolan Test"):
    from sim.programmes.models import Organisation

    provider = Organisation.objects.create(name=name, kind=Organisation.Kind.EDUCATION)
    if user is not None:
        ProviderStaff.objects.create(user=user, provider=provider)
    return provider


@pytest.fixture(autouse=True)
def english(settings):
    """Tests read the English source texts (the lead translates to Swedish, the default)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
