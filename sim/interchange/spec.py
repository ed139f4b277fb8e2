"""The declarative spec of the project export (`docs/project-export-format.md`, ADR 14).

Every part of the file is a :class:`Section`: a model, how its rows are reached from the project
(``scope``), and how its rows are named when other rows point at them — a natural key (companies
by organisation number, partners by organisation name) or a ``ref`` string local to the file.

The fields of a row are derived from the model (every concrete field but the primary key and the
columns in :data:`ALWAYS_EXCLUDED`), so a field added to a model is exported without touching
this module; :func:`reference_kind` says how each foreign key is written. The exporter
(`exporting.py`) and the importer (`importing.py`) both walk :data:`SECTIONS` in order: a section
only points at sections before it (or at earlier rows of itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q

FORMAT = "sim-project-export"
VERSION = 1

# Columns never written: derived by the application (updated_at is "now" on every save, the
# search text follows from name and number).
ALWAYS_EXCLUDED = frozenset({"updated_at", "search_text"})

USER_MODEL = settings.AUTH_USER_MODEL.lower()

# Reference data: written as its code and never exported; the importing database must hold it.
REFERENCE_CODES = {
    "companies.municipality": "code",
    "companies.county": "code",
    "assessments.instrumentversion": "key:version",
}

# Shared records that several projects use: exported as definitions ("dictionaries") of the ones
# the project references, and on import created when missing, used as they are when present.
DICTIONARIES = {
    "programmes.organisation": ("organisations", "name"),
    "programmes.focusarea": ("focus_areas", "key"),
    "competence.concept": ("concepts", "uri"),
    USER_MODEL: ("users", "username"),
}


@dataclass
class ExportContext:
    """What the scopes need: the project and, once known, the companies and exported primary keys."""

    project_id: int
    company_ids: set[int] = field(default_factory=set)
    pks: dict[str, list[int]] = field(default_factory=dict)


Scope = Callable[[ExportContext], Q]


@dataclass(frozen=True)
class Section:
    key: str
    model_label: str
    scope: Scope
    prefix: str | None = None  # rows carry a "ref" (e.g. "referral:3") other rows point at
    natural_key: str | None = None  # or are pointed at by this field's value
    m2m: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ("pk",)
    # Nullable references whose target is outside the export drop the whole row instead of being
    # written as null (a revocation without the award it revokes would be meaningless).
    required_if_set: tuple[str, ...] = ()
    single: bool = False  # the project: one object, not a list

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def fields(self) -> list[models.Field]:
        """The written columns, in model order (foreign keys included)."""
        return [
            f for f in self.model._meta.concrete_fields
            if not f.primary_key and f.name not in ALWAYS_EXCLUDED and f.name not in self.exclude
            and not self.implied_project(f)
        ]

    def m2m_fields(self) -> list[models.ManyToManyField]:
        return [self.model._meta.get_field(name) for name in self.m2m]

    def implied_project(self, f: models.Field) -> bool:
        """A required foreign key to the project is implied by the file: not written."""
        return (f.is_relation and f.related_model._meta.label_lower == "programmes.project"
                and not f.null and not self.single)

    def row_keys(self) -> list[str]:
        keys = ["ref"] if self.prefix else []
        return keys + [f.name for f in self.fields()] + list(self.m2m)


def reference_kind(f: models.Field, sections_by_model: dict[str, Section]) -> tuple[str, Any]:
    """How a foreign key (or many-to-many) to ``f.related_model`` is written in the file.

    ``("section", section)`` — a row of an exported section (by ref or natural key);
    ``("dictionary", (key, natural_field))`` — a shared definition; ``("reference", code)``;
    ``("project", None)`` — the project's code.
    """
    label = f.related_model._meta.label_lower
    if label == "programmes.project":
        return ("project", None)
    if label in REFERENCE_CODES:
        return ("reference", REFERENCE_CODES[label])
    if label in DICTIONARIES:
        return ("dictionary", DICTIONARIES[label])
    if label in sections_by_model:
        return ("section", sections_by_model[label])
    raise LookupError(f"{f.model._meta.label}.{f.name}: no way to write a reference to {label}")


def _project(field_name: str = "project") -> Scope:
    return lambda ctx: Q(**{field_name: ctx.project_id})


def _companies(field_name: str = "company") -> Scope:
    return lambda ctx: Q(**{f"{field_name}__in": ctx.company_ids})


def _exported(section_key: str, field_name: str) -> Scope:
    return lambda ctx: Q(**{f"{field_name}__in": ctx.pks.get(section_key, [])})


SECTIONS: list[Section] = [
    Section("project", "programmes.Project", lambda ctx: Q(pk=ctx.project_id), natural_key="code",
            m2m=("counties", "municipalities", "focus_areas"), single=True),
    Section("partners", "programmes.ProjectPartner", _project(), natural_key="organisation"),
    Section("members", "programmes.ProjectMembership", _project()),
    Section("companies", "companies.Company", lambda ctx: Q(pk__in=ctx.company_ids), natural_key="org_number",
            order_by=("org_number",)),
    Section("key_figures", "companies.KeyFigures", _companies(), order_by=("company__org_number", "fiscal_year")),
    Section("ownership_links", "companies.OwnershipLink",
            lambda ctx: Q(holder__in=ctx.company_ids, held__in=ctx.company_ids),
            order_by=("held__org_number", "holder__org_number")),
    Section("contacts", "companies.Contact", _companies(), prefix="contact"),
    Section("offers", "programmes.Offer", _project(), prefix="offer", m2m=("focus_areas",)),
    Section("assessments", "assessments.Assessment", _companies(), prefix="assessment"),
    Section("needs", "assessments.Need", _companies(), prefix="need"),
    Section("growth_plans", "assessments.GrowthPlan", _companies(), prefix="plan"),
    Section("growth_goals", "assessments.GrowthGoal", _exported("growth_plans", "plan"), prefix="goal"),
    Section("referrals", "programmes.Referral", _project(), prefix="referral"),
    Section("interventions", "programmes.Intervention", _project(), prefix="intervention", m2m=("growth_goals",)),
    Section("growth_actions", "assessments.GrowthAction", _exported("growth_plans", "plan")),
    Section("follow_ups", "programmes.FollowUp",
            lambda ctx: Q(project=ctx.project_id) | Q(project__isnull=True, company__in=ctx.company_ids)),
    Section("activities", "activities.Activity", _project(), m2m=("advisors", "contacts")),
    Section("events", "activities.Event", _project(), prefix="event", m2m=("focus_areas",)),
    Section("registrations", "activities.Registration", _project("event__project")),
    Section("budget_scenarios", "finance.BudgetScenario", _project(), prefix="scenario"),
    Section("budget_lines", "finance.BudgetLine", _project("scenario__project")),
    Section("financing_sources", "finance.FinancingSource", _project("scenario__project")),
    Section("cost_entries", "finance.CostEntry", _project(), prefix="cost", required_if_set=("reverses",)),
    Section("staff_rates", "finance.StaffRate", _project()),
    Section("time_reports", "finance.TimeReport", _project()),
    Section("competence_needs", "competence.CompetenceNeed",
            lambda ctx: Q(company__in=ctx.company_ids) & (Q(project=ctx.project_id) | Q(project__isnull=True)),
            prefix="competence_need"),
    Section("need_concepts", "competence.NeedConcept", _exported("competence_needs", "need")),
    Section("undertaking_profiles", "stateaid.UndertakingProfile", _companies(), order_by=("company__org_number",)),
    Section("exchange_rates", "stateaid.ExchangeRate", lambda ctx: Q(), natural_key="date", order_by=("date",)),
    Section("aid_awards", "stateaid.AidAward",
            lambda ctx: (Q(undertaking__in=ctx.company_ids)
                         & (Q(offer__isnull=True) | Q(offer__project=ctx.project_id))
                         & (Q(intervention__isnull=True) | Q(intervention__project=ctx.project_id))),
            prefix="award", required_if_set=("reverses",)),
    Section("indicator_sets", "reporting.ProjectIndicatorSet", _project()),
    Section("indicators", "reporting.ProjectIndicator", _project(), natural_key="code", order_by=("code",)),
    Section("indicator_milestones", "reporting.IndicatorMilestone", _project("indicator__project"),
            order_by=("indicator__code", "date")),
    Section("indicator_entries", "reporting.IndicatorEntry", _project("indicator__project")),
]

SECTION_BY_KEY = {s.key: s for s in SECTIONS}


def sections_by_model() -> dict[str, Section]:
    return {s.model_label.lower(): s for s in SECTIONS}


# How the set of companies is found: every company with one of these in the project.
COMPANY_SOURCES: list[tuple[str, str, Scope]] = [
    ("programmes.Referral", "company", _project()),
    ("programmes.Intervention", "company", _project()),
    ("programmes.FollowUp", "company", _project()),
    ("activities.Activity", "company", _project()),
    ("activities.Registration", "company", _project("event__project")),
    ("activities.Registration", "contact__company", _project("event__project")),
    ("finance.CostEntry", "company", _project()),
    ("competence.CompetenceNeed", "company", _project()),
    ("stateaid.AidAward", "undertaking", lambda ctx: Q(offer__project=ctx.project_id) | Q(intervention__project=ctx.project_id)),
]

# Dictionary definitions: the fields written for each (users are special: roles, no password).
DICTIONARY_FIELDS = {
    "organisations": ("programmes.Organisation", ["name", "kind", "org_number", "website", "email", "phone", "created_at"]),
    "focus_areas": ("programmes.FocusArea", ["key", "name_sv", "name_en", "description_sv", "description_en", "order", "active"]),
    "concepts": ("competence.Concept", ["uri", "kind", "preferred_label_sv", "preferred_label_en", "alt_labels_sv",
                                        "alt_labels_en", "description_sv", "description_en", "source", "active"]),
    "users": (settings.AUTH_USER_MODEL, ["username", "first_name", "last_name", "email", "is_active"]),
}
DICTIONARY_ORDER = ["organisations", "users", "focus_areas", "concepts"]

# follow_ups.source_key names the record an automatic follow-up is about by database id
# ("referral:12:…", "intervention:7"); the file writes the ref instead.
SOURCE_KEY_SECTIONS = {"referral": "referrals", "intervention": "interventions"}

# Models of the business apps the file leaves out on purpose, and why (a test checks that every
# model is either exported, referenced, or listed here).
NOT_EXPORTED = {
    "companies.snicode": "reference data: companies carry their SNI codes as text",
    "companies.companyrepresentative": "portal access of company users: granted again in the new installation",
    "companies.notduplicate": "an administrator's judgement about the whole register, not the project",
    "programmes.mailing": "outreach history; its recipients hold opt-out tokens",
    "programmes.mailingrecipient": "outreach history; holds opt-out tokens",
    "assessments.selfassessmentlink": "personal access links (secrets) that must not leave the installation",
    "competence.matchcorrection": "the matcher's learning across all projects",
    "competence.providerstaff": "education providers' user accounts, not project data",
    "competence.educationoffering": "education providers' catalogue, not project data",
    "competence.offeringconcept": "education providers' catalogue, not project data",
    "competence.offeringoffer": "ties a project offer to the providers' catalogue (not exported); the offer is",
    "competence.needreferral": "ties a referral to the providers' catalogue (not exported); the referral and need are",
}
EXPORT_APPS = ("companies", "programmes", "assessments", "activities", "finance", "competence", "stateaid", "reporting")

# Top-level keys of a file, in the order they are written.
TOP_LEVEL_KEYS = ["format", "version", "exported_at", "project", *DICTIONARY_ORDER,
                  *[s.key for s in SECTIONS if not s.single]]
