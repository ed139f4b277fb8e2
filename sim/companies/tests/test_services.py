"""Writes to the company register: validation, audit, SME class, contacts (GDPR), merge, duplicates."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from sim.companies import selectors, services
from sim.companies.duplicates import CompanyKey, duplicate_pairs, name_similarity, normalise_name
from sim.companies.models import (
    Company,
    CompanyRepresentative,
    Contact,
    KeyFigures,
    LegalBasis,
    NotDuplicate,
    OwnershipLink,
)
from sim.companies.tests.factories import (
    CompanyFactory,
    CompanyRepresentativeFactory,
    make_org_number,
)
from sim.core.audit import history_for
from sim.core.models import AuditEvent
from sim.core.roles import Role

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR, username="anna")


def org(n: int) -> str:
    """A valid organisation number (ten digits) for a small sequence number."""
    return make_org_number(700_000 + n)


def dashed(number: str) -> str:
    return f"{number[:6]}-{number[6:]}"


def new_company(actor, n: int = 1, **data) -> Company:
    return services.company_create(
        actor, {"org_number": org(n), "name": f"Företag {n} AB", "sni_primary": "25620", "municipality": "2380", **data}
    )


def events_of(instance, action=None):
    events = AuditEvent.objects.filter(object_type=instance._meta.label_lower, object_id=str(instance.pk))
    return events.filter(action=action) if action else events


def figures(staff, turnover_msek, balance_msek=None):
    return {
        "staff_awu": Decimal(staff),
        "turnover_sek": Decimal(turnover_msek) * 1_000_000,
        "balance_sheet_sek": Decimal(balance_msek if balance_msek is not None else turnover_msek) * 1_000_000,
    }


# --- Create ---------------------------------------------------------------------------------


def test_company_create_normalises_and_audits(advisor):
    number = org(1)
    before = timezone.now()
    company = services.company_create(
        advisor,
        {"org_number": f"16{dashed(number)}", "name": "  Storsjöns Mekaniska AB ", "sni_primary": "25.620",
         "sni_secondary": ["33.120", "", "33120"], "municipality": "2380"},
    )
    company.refresh_from_db()
    assert company.org_number == number
    assert company.org_number_display == dashed(number)
    assert company.name == "Storsjöns Mekaniska AB"
    assert company.sni_primary == "25620"
    assert company.sni_secondary == ["33120"]
    assert company.municipality.name == "Östersund"
    assert company.legal_form == "ab"  # from the first digit, 5
    assert company.is_sole_trader is False
    assert company.status == "prospect"
    assert company.created_by == advisor
    assert company.search_text == f" storsjöns mekaniska ab {number}"

    (event,) = events_of(company)
    assert event.action == Action.CREATE
    assert event.actor == advisor and event.actor_label == "anna"
    assert before <= event.occurred_at <= timezone.now()
    assert event.source == "web"
    assert event.changes["name"] == {"before": None, "after": "Storsjöns Mekaniska AB"}
    assert event.changes["org_number"] == {"before": None, "after": number}
    assert event.changes["municipality"] == {"before": None, "after": "2380"}


def test_company_create_records_the_source(advisor):
    company = services.company_create(advisor, {"org_number": org(1), "name": "Api AB"}, source=AuditEvent.Source.API)
    assert events_of(company).get().source == "api"


def test_public_body_from_the_org_number(advisor):
    nine = "212000250"
    from sim.companies import rules

    number = nine + rules.luhn_check_digit(nine)
    company = services.company_create(advisor, {"org_number": number, "name": "Östersunds kommun"})
    assert company.is_public_body is True
    assert company.legal_form == "pub"


def test_sole_trader_is_flagged_as_personal_data(advisor):
    company = services.company_create(advisor, {"org_number": "811218-9876", "name": "Kalles Svets"})
    assert company.is_sole_trader is True
    assert company.legal_form == "ef"
    assert company.org_number == "8112189876"


@pytest.mark.parametrize("written", ["{d}", "{dashed}", "16{d}", "16{dashed}", " {d} ", "{d6} {d4}"])
def test_the_same_number_in_another_format_is_refused(advisor, written):
    number = org(1)
    services.company_create(advisor, {"org_number": number, "name": "Första AB"})
    text = written.format(d=number, dashed=dashed(number), d6=number[:6], d4=number[6:])
    with pytest.raises(ValidationError) as error:
        services.company_create(advisor, {"org_number": text, "name": "Andra AB"})
    assert "org_number" in error.value.message_dict
    assert dashed(number) in error.value.message_dict["org_number"][0]
    assert "already in the register" in error.value.message_dict["org_number"][0]
    assert Company.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"org_number": "556036-0794"}, "org_number", "check digit"),
        ({"org_number": ""}, "org_number", "required"),
        ({"org_number": "abc"}, "org_number", "only contain digits"),
        ({"sni_primary": "99999"}, "sni_primary", "99999 is not a code in SNI2007"),
        ({"sni_primary": "x1"}, "sni_primary", ""),
        ({"sni_secondary": ["25620", "99998"]}, "sni_secondary", "99998 is not a code"),
        ({"municipality": "9999"}, "municipality", "9999 is not a Swedish municipality code"),
        ({"name": "   "}, "name", "needs a name"),
        ({"status": "archived"}, "status", "archive"),
        ({"status": "sleeping"}, "status", ""),
        ({"colour": "red"}, "colour", "Unknown field"),
        ({"website": "not a url"}, "website", ""),
    ],
)
def test_company_create_errors_name_the_field(advisor, data, field, message):
    payload = {"org_number": org(1), "name": "Felaktiga AB", **data}
    with pytest.raises(ValidationError) as error:
        services.company_create(advisor, payload)
    errors = error.value.message_dict
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Company.objects.exists()
    assert not AuditEvent.objects.exists()


def test_municipality_code_without_leading_zero(advisor):
    company = services.company_create(advisor, {"org_number": org(1), "name": "Stockholms AB", "municipality": "180"})
    assert company.municipality_id == "0180"


# --- Update ---------------------------------------------------------------------------------


def test_company_update_audits_only_the_changes(advisor, make_user):
    company = new_company(advisor)
    editor = make_user(Role.PROJECT_MANAGER, username="bertil")
    services.company_update(editor, company, {"website": "https://exempel.se", "name": "Företag 1 AB"})
    company.refresh_from_db()
    assert company.website == "https://exempel.se"
    event = events_of(company, Action.UPDATE).get()
    assert event.actor == editor
    assert event.changes == {"website": {"before": "", "after": "https://exempel.se"}}


def test_company_update_without_change_writes_no_event(advisor):
    company = new_company(advisor)
    services.company_update(advisor, company, {"name": company.name, "sni_primary": "25.620"})
    assert not events_of(company, Action.UPDATE).exists()


def test_company_update_renaming_refreshes_the_search_text(advisor):
    company = new_company(advisor)
    services.company_update(advisor, company, {"name": "Nytt Namn AB"})
    company.refresh_from_db()
    assert company.search_text.startswith(" nytt namn ab ")


def test_company_update_refuses_another_companys_number(advisor):
    first = new_company(advisor, 1)
    second = new_company(advisor, 2)
    with pytest.raises(ValidationError) as error:
        services.company_update(advisor, second, {"org_number": f"16{dashed(first.org_number)}"})
    assert "org_number" in error.value.message_dict
    second.refresh_from_db()
    assert second.org_number == org(2)


def test_company_update_validates_reference_data(advisor):
    company = new_company(advisor)
    with pytest.raises(ValidationError) as error:
        services.company_update(advisor, company, {"sni_primary": "99999", "municipality": "2380"})
    assert "sni_primary" in error.value.message_dict
    company.refresh_from_db()
    assert company.sni_primary == "25620"


def test_an_archived_company_cannot_be_reactivated_by_an_update(advisor):
    company = new_company(advisor)
    services.company_archive(advisor, company)
    with pytest.raises(ValidationError) as error:
        services.company_update(advisor, company, {"status": "active"})
    assert "status" in error.value.message_dict
    company.refresh_from_db()
    assert company.status == "archived" and company.archived_at is not None


# --- Archive and restore --------------------------------------------------------------------


def test_archive_and_restore_are_audited(advisor):
    company = new_company(advisor, status="active")
    services.company_archive(advisor, company, reason="Gick i konkurs")
    company.refresh_from_db()
    assert company.status == "archived"
    assert company.archived_at is not None
    event = events_of(company, Action.ARCHIVE).get()
    assert event.message == "Gick i konkurs"
    assert event.changes["status"] == {"before": "active", "after": "archived"}

    services.company_archive(advisor, company)  # already archived: nothing happens
    assert events_of(company, Action.ARCHIVE).count() == 1

    services.company_restore(advisor, company, status="alumni")
    company.refresh_from_db()
    assert company.status == "alumni"
    assert company.archived_at is None
    restore = events_of(company, Action.RESTORE).get()
    assert restore.changes["status"] == {"before": "archived", "after": "alumni"}
    services.company_restore(advisor, company)  # not archived: nothing happens
    assert events_of(company, Action.RESTORE).count() == 1


def test_restore_needs_a_real_status(advisor):
    company = new_company(advisor)
    services.company_archive(advisor, company)
    with pytest.raises(ValidationError):
        services.company_restore(advisor, company, status="archived")
    with pytest.raises(ValidationError):
        services.company_restore(advisor, company, status="bogus")


def test_a_merged_company_cannot_be_restored(advisor):
    survivor, absorbed = new_company(advisor, 1), new_company(advisor, 2)
    services.company_merge(advisor, survivor, absorbed)
    absorbed.refresh_from_db()
    with pytest.raises(ValidationError):
        services.company_restore(advisor, absorbed)
    absorbed.refresh_from_db()
    assert absorbed.status == "archived"


# --- Key figures and SME class --------------------------------------------------------------


def test_key_figures_set_creates_then_updates_with_audit(advisor):
    company = new_company(advisor)
    kf = services.key_figures_set(advisor, company, 2024, figures(5, 10, 5))
    assert kf.pk and kf.fiscal_year == 2024
    create = events_of(kf).get()
    assert create.action == Action.CREATE
    assert (create.scope_type, create.scope_id) == ("companies.company", str(company.pk))
    assert create.changes["turnover_sek"] == {"before": None, "after": "10000000"}

    services.key_figures_set(advisor, company, 2024, {"staff_awu": Decimal("6.5")})
    update = events_of(kf, Action.UPDATE).get()
    assert update.changes == {"staff_awu": {"before": "5", "after": "6.5"}}
    assert KeyFigures.objects.get(company=company, fiscal_year=2024).staff_awu == Decimal("6.5")

    services.key_figures_set(advisor, company, 2024, {"staff_awu": Decimal("6.50")})
    assert events_of(kf).count() == 2  # unchanged: no event
    assert create in history_for(company)


@pytest.mark.parametrize(
    ("data", "field"),
    [({"staff_awu": Decimal("-1")}, "staff_awu"), ({"turnover_sek": -5}, "turnover_sek"), ({"profit": 1}, "profit")],
)
def test_key_figures_set_refuses_bad_values(advisor, data, field):
    company = new_company(advisor)
    with pytest.raises(ValidationError) as error:
        services.key_figures_set(advisor, company, 2024, data)
    assert field in error.value.message_dict
    assert not KeyFigures.objects.exists()


def test_key_figures_set_refuses_a_year_out_of_range(advisor):
    company = new_company(advisor)
    with pytest.raises(ValidationError):
        services.key_figures_set(advisor, company, 1800, figures(5, 10))
    assert not KeyFigures.objects.exists()


def test_key_figures_set_the_size_class(advisor):
    company = new_company(advisor)
    assert company.size_class == ""
    services.key_figures_set(advisor, company, 2024, figures(5, 10, 5))
    company.refresh_from_db()
    assert (company.size_class, company.size_class_year) == ("micro", 2024)
    services.key_figures_set(advisor, company, 2024, figures(60, 200))
    company.refresh_from_db()
    assert company.size_class == "medium"


def test_size_class_follows_the_two_year_rule(advisor):
    company = new_company(advisor)
    services.key_figures_set(advisor, company, 2023, figures(5, 10))
    services.key_figures_set(advisor, company, 2024, figures(20, 30))  # small ceilings crossed once
    company.refresh_from_db()
    assert company.size_class == "micro"
    services.key_figures_set(advisor, company, 2025, figures(20, 30))  # twice in a row
    company.refresh_from_db()
    assert (company.size_class, company.size_class_year) == ("small", 2025)


def test_a_subsidiary_becomes_large_through_its_parent(advisor):
    subsidiary = new_company(advisor, 1)
    parent = new_company(advisor, 2)
    services.key_figures_set(advisor, subsidiary, 2024, figures(5, 10, 5))
    services.key_figures_set(advisor, parent, 2024, figures(300, 600))
    subsidiary.refresh_from_db()
    parent.refresh_from_db()
    assert (subsidiary.size_class, parent.size_class) == ("micro", "large")

    link = services.ownership_link_set(advisor, parent, subsidiary, capital_pct=60, voting_pct=60)
    subsidiary.refresh_from_db()
    assert subsidiary.size_class == "large"
    explanation = " ".join(services.company_sme_assessment(subsidiary).explanation)
    assert services.enterprise_label(parent) in explanation

    services.ownership_link_remove(advisor, link)
    subsidiary.refresh_from_db()
    assert subsidiary.size_class == "micro"


def test_a_partner_adds_its_share(advisor):
    subsidiary = new_company(advisor, 1)
    partner = new_company(advisor, 2)
    services.key_figures_set(advisor, subsidiary, 2024, figures(5, 10, 5))
    services.key_figures_set(advisor, partner, 2024, figures(300, 600))
    services.ownership_link_set(advisor, partner, subsidiary, capital_pct=40, voting_pct=30)
    subsidiary.refresh_from_db()
    assert subsidiary.size_class == "medium"  # 5 + 40 % of 300 = 125 AWU
    result = services.company_sme_assessment(subsidiary)
    assert result.aggregated.staff_awu == Decimal("125")


def test_public_body_flag_refreshes_the_size_class(advisor):
    company = new_company(advisor)
    services.key_figures_set(advisor, company, 2024, figures(5, 10))
    services.company_update(advisor, company, {"is_public_body": True})
    company.refresh_from_db()
    assert company.size_class == "large"


def test_sme_assessment_without_figures_is_none(advisor):
    company = new_company(advisor)
    assert services.company_sme_assessment(company) is None
    services.key_figures_set(advisor, company, 2024, {"staff_awu": Decimal(3)})  # no money figures
    assert services.company_sme_assessment(company) is None


# --- Ownership ------------------------------------------------------------------------------


def test_ownership_link_set_is_audited_in_both_companies(advisor):
    holder, held = new_company(advisor, 1), new_company(advisor, 2)
    link = services.ownership_link_set(
        advisor, holder, held, capital_pct="30", voting_pct=Decimal("55.5"), controls=False, source_note="Bolagsverket"
    )
    assert (link.capital_pct, link.voting_pct, link.source) == (Decimal("30"), Decimal("55.5"), "Bolagsverket")
    assert link.is_control
    events = events_of(link, Action.CREATE)
    assert {e.scope_id for e in events} == {str(holder.pk), str(held.pk)}
    assert events.first().changes["voting_pct"] == {"before": None, "after": "55.5"}

    again = services.ownership_link_set(
        advisor, holder, held, capital_pct=Decimal("30.00"), voting_pct="55.50", source_note="Bolagsverket"
    )
    assert again.pk == link.pk
    assert not events_of(link, Action.UPDATE).exists()  # equal values: no change recorded
    same = services.ownership_link_set(
        advisor, holder, held, capital_pct=30, voting_pct=20, source_note="Bolagsverket"
    )
    assert same.pk == link.pk
    assert OwnershipLink.objects.count() == 1
    update = events_of(link, Action.UPDATE)
    assert update.count() == 2
    assert update.first().changes == {"voting_pct": {"before": "55.5", "after": "20"}}


@pytest.mark.parametrize(("capital", "voting", "field"), [(101, 50, "capital_pct"), (50, -1, "voting_pct")])
def test_ownership_percentages_are_checked(advisor, capital, voting, field):
    holder, held = new_company(advisor, 1), new_company(advisor, 2)
    with pytest.raises(ValidationError) as error:
        services.ownership_link_set(advisor, holder, held, capital_pct=capital, voting_pct=voting)
    assert field in error.value.message_dict
    assert not OwnershipLink.objects.exists()


def test_a_company_cannot_own_itself(advisor):
    company = new_company(advisor)
    with pytest.raises(ValidationError):
        services.ownership_link_set(advisor, company, company, capital_pct=10, voting_pct=10)


def test_ownership_link_remove(advisor):
    holder, held = new_company(advisor, 1), new_company(advisor, 2)
    link = services.ownership_link_set(advisor, holder, held, capital_pct=10, voting_pct=10)
    link_pk = link.pk
    services.ownership_link_remove(advisor, link, reason="Sålt")
    assert not OwnershipLink.objects.exists()
    removed = AuditEvent.objects.filter(object_type="companies.ownershiplink", object_id=str(link_pk), action=Action.ARCHIVE)
    assert {e.scope_id for e in removed} == {str(holder.pk), str(held.pk)}
    assert all(e.message == "Sålt" for e in removed)
    assert removed.first().changes["voting_pct"] == {"before": "10", "after": None}


# --- Contacts -------------------------------------------------------------------------------


def contact_data(**extra):
    return {"name": "Karin Lund", "role": "VD", "email": "karin@exempel.se", "phone": "070-123 45 67",
            "legal_basis": LegalBasis.LEGITIMATE_INTEREST, "notes": "Vill exportera till Norge.", **extra}


def test_contact_create_with_consent_needs_a_date(advisor):
    company = new_company(advisor)
    with pytest.raises(ValidationError) as error:
        services.contact_create(advisor, company, contact_data(legal_basis=LegalBasis.CONSENT))
    assert "consent_date" in error.value.message_dict
    assert not Contact.objects.exists()
    contact = services.contact_create(
        advisor, company, contact_data(legal_basis=LegalBasis.CONSENT, consent_date=dt.date(2024, 3, 1))
    )
    assert contact.consent_date == dt.date(2024, 3, 1)
    assert contact.created_by == advisor


def test_contact_create_is_audited_in_the_companys_history(advisor):
    company = new_company(advisor)
    contact = services.contact_create(advisor, company, contact_data())
    event = events_of(contact).get()
    assert event.action == Action.CREATE
    assert event.scope_id == str(company.pk)
    assert event.changes["email"] == {"before": None, "after": "karin@exempel.se"}
    assert event in selectors.company_history(company)


@pytest.mark.parametrize(
    ("data", "field"),
    [({"legal_basis": "whim"}, "legal_basis"), ({"email": "not-an-address"}, "email"), ({"name": ""}, "name"),
     ({"shoe_size": 42}, "shoe_size")],
)
def test_contact_create_validates(advisor, data, field):
    company = new_company(advisor)
    with pytest.raises(ValidationError) as error:
        services.contact_create(advisor, company, contact_data(**data))
    assert field in error.value.message_dict
    assert not Contact.objects.exists()


def test_contact_update_and_archive(advisor):
    company = new_company(advisor)
    contact = services.contact_create(advisor, company, contact_data())
    services.contact_update(advisor, contact, {"phone": "070-999 99 99"})
    update = events_of(contact, Action.UPDATE).get()
    assert update.changes == {"phone": {"before": "070-123 45 67", "after": "070-999 99 99"}}
    with pytest.raises(ValidationError):
        services.contact_update(advisor, contact, {"legal_basis": LegalBasis.CONSENT})  # no date
    services.contact_archive(advisor, contact)
    contact.refresh_from_db()
    assert contact.archived_at is not None and not contact.is_active
    services.contact_archive(advisor, contact)
    assert events_of(contact, Action.ARCHIVE).count() == 1


def test_contact_export_has_everything_about_the_person(advisor):
    company = new_company(advisor)
    contact = services.contact_create(
        advisor, company, contact_data(legal_basis=LegalBasis.CONSENT, consent_date=dt.date(2024, 3, 1))
    )
    services.contact_update(advisor, contact, {"role": "Ekonomichef"})
    payload = json.loads(services.contact_export(advisor, contact))
    assert payload["format"] == "sim.contact-personal-data/1"
    assert payload["contact"]["name"] == "Karin Lund"
    assert payload["contact"]["email"] == "karin@exempel.se"
    assert payload["contact"]["phone"] == "070-123 45 67"
    assert payload["contact"]["role"] == "Ekonomichef"
    assert payload["contact"]["notes"] == "Vill exportera till Norge."
    assert payload["contact"]["legal_basis"] == "consent"
    assert payload["contact"]["consent_date"] == "2024-03-01"
    assert payload["company"] == {"org_number": company.org_number_display, "name": company.name}
    assert [h["action"] for h in payload["history"]] == ["create", "update"]
    assert payload["history"][1]["changes"] == {"role": {"before": "VD", "after": "Ekonomichef"}}
    assert payload["history"][0]["who"] == "anna"
    export = events_of(contact, Action.EXPORT).get()
    assert export.actor == advisor and export.scope_id == str(company.pk)


def test_contact_erase_anonymises_and_redacts_its_history(advisor, make_user):
    company = new_company(advisor)
    contact = services.contact_create(advisor, company, contact_data(legal_basis=LegalBasis.CONSENT,
                                                                     consent_date=dt.date(2024, 3, 1)))
    services.contact_update(advisor, contact, {"email": "karin.lund@exempel.se"})
    services.contact_export(advisor, contact)
    other = services.contact_create(
        advisor, company, {"name": "Olle Berg", "email": "olle@exempel.se", "legal_basis": LegalBasis.LEGITIMATE_INTEREST}
    )
    earlier = events_of(contact).count()
    assert earlier == 3

    admin = make_user(Role.ADMIN)
    services.contact_erase(admin, contact, reason="Begäran 2025-01-10")
    contact.refresh_from_db()
    assert contact.name == "Erased contact"
    assert (contact.email, contact.phone, contact.role, contact.notes) == ("", "", "", "")
    assert contact.consent_date is None
    assert contact.erased_at is not None and contact.archived_at is not None
    assert contact.legal_basis == "consent"
    assert Contact.objects.count() == 2  # the row stays, so counts add up

    events = events_of(contact)
    assert events.count() == earlier + 1
    erase = events.get(action=Action.ERASE)
    assert erase.actor == admin and erase.message == "Begäran 2025-01-10"
    for event in events.exclude(pk=erase.pk):
        assert event.changes == {"redacted": True}
    trail = json.dumps([[e.object_repr, e.changes, e.message] for e in AuditEvent.objects.all()], ensure_ascii=False)
    assert "Karin" not in trail and "karin" not in trail and "070-123" not in trail and "Norge" not in trail
    # Someone else's history is untouched.
    assert events_of(other).get().changes["email"]["after"] == "olle@exempel.se"

    services.contact_erase(admin, contact)  # again: nothing more happens
    assert events_of(contact).count() == earlier + 1
    with pytest.raises(ValidationError):
        services.contact_update(advisor, contact, {"name": "Karin Lund"})
    exported = json.dumps(services.contact_personal_data(contact), ensure_ascii=False)
    assert "Karin" not in exported and "karin" not in exported


# --- Merge ----------------------------------------------------------------------------------


@pytest.fixture
def pair(advisor, make_user):
    survivor = new_company(advisor, 1, name="Storsjöns Mekaniska AB")
    absorbed = new_company(advisor, 2, name="Storsjöns Mekaniska")
    services.key_figures_set(advisor, survivor, 2024, figures(5, 10, 5))
    services.key_figures_set(advisor, absorbed, 2024, figures(7, 12, 6))
    services.key_figures_set(advisor, absorbed, 2023, figures(4, 9, 4))
    contact = services.contact_create(advisor, absorbed, contact_data())
    owner = new_company(advisor, 3, name="Ägarbolaget AB")
    holding = new_company(advisor, 4, name="Dotterbolaget AB")
    services.ownership_link_set(advisor, owner, absorbed, capital_pct=30, voting_pct=30)
    services.ownership_link_set(advisor, absorbed, holding, capital_pct=100, voting_pct=100)
    rep = make_user(Role.COMPANY_REPRESENTATIVE)
    CompanyRepresentativeFactory(user=rep, company=absorbed)
    return {"survivor": survivor, "absorbed": absorbed, "contact": contact, "owner": owner, "holding": holding,
            "rep": rep}


def test_merge_moves_everything_to_the_survivor(advisor, pair):
    survivor, absorbed = pair["survivor"], pair["absorbed"]
    result = services.company_merge(advisor, survivor, absorbed)
    assert result.pk == survivor.pk

    assert Contact.objects.get(pk=pair["contact"].pk).company_id == survivor.pk
    years = dict(KeyFigures.objects.filter(company=survivor).values_list("fiscal_year", "staff_awu"))
    assert years == {2024: Decimal("5"), 2023: Decimal("4")}  # conflicting year: the survivor's
    assert not KeyFigures.objects.filter(company=absorbed).exists()
    assert OwnershipLink.objects.filter(holder=pair["owner"], held=survivor).exists()
    assert OwnershipLink.objects.filter(holder=survivor, held=pair["holding"]).exists()
    assert not OwnershipLink.objects.filter(holder=absorbed).exists()
    assert not OwnershipLink.objects.filter(held=absorbed).exists()
    assert CompanyRepresentative.objects.get(user=pair["rep"]).company_id == survivor.pk
    assert selectors.company_for_user(pair["rep"], survivor.pk) is not None

    absorbed.refresh_from_db()
    assert absorbed.status == "archived"
    assert absorbed.merged_into_id == survivor.pk
    assert absorbed.archived_at is not None


def test_merge_is_audited_and_keeps_the_history(advisor, pair, make_user):
    survivor, absorbed = pair["survivor"], pair["absorbed"]
    absorbed_create = events_of(absorbed, Action.CREATE).get()
    admin = make_user(Role.ADMIN, username="admin1")
    services.company_merge(admin, survivor, absorbed)

    merge_absorbed = events_of(absorbed, Action.MERGE).get()
    assert merge_absorbed.actor == admin
    assert merge_absorbed.changes["merged_into"] == {"before": None, "after": survivor.pk}
    assert merge_absorbed.changes["status"] == {"before": "prospect", "after": "archived"}
    merge_survivor = events_of(survivor, Action.MERGE).get()
    summary = merge_survivor.changes["merged"]["after"]
    assert summary["contacts"] == 1
    assert summary["key_figures"] == 1
    assert summary["links"] == 2
    assert [kf["fiscal_year"] for kf in summary["key_figures_dropped"]] == [2024]
    assert summary["key_figures_dropped"][0]["staff_awu"] == "7"
    assert absorbed.org_number_display in merge_survivor.message

    history = list(selectors.company_history(survivor))
    assert absorbed_create in history
    assert merge_absorbed in history and merge_survivor in history
    assert events_of(pair["contact"], Action.CREATE).get() in history


def test_merge_drops_links_between_the_two_and_duplicate_links(advisor):
    survivor, absorbed, owner = new_company(advisor, 1), new_company(advisor, 2), new_company(advisor, 3)
    services.ownership_link_set(advisor, survivor, absorbed, capital_pct=100, voting_pct=100)
    services.ownership_link_set(advisor, owner, survivor, capital_pct=20, voting_pct=20)
    services.ownership_link_set(advisor, owner, absorbed, capital_pct=40, voting_pct=40)
    services.company_merge(advisor, survivor, absorbed)
    assert list(OwnershipLink.objects.values_list("holder_id", "held_id", "voting_pct")) == [
        (owner.pk, survivor.pk, Decimal("20"))
    ]


def test_merge_keeps_one_representative_link_per_user(advisor, make_user):
    survivor, absorbed = new_company(advisor, 1), new_company(advisor, 2)
    rep = make_user(Role.COMPANY_REPRESENTATIVE)
    CompanyRepresentativeFactory(user=rep, company=survivor)
    CompanyRepresentativeFactory(user=rep, company=absorbed)
    services.company_merge(advisor, survivor, absorbed)
    assert list(CompanyRepresentative.objects.values_list("company_id", flat=True)) == [survivor.pk]


def test_merge_refuses_the_same_company_and_merged_ones(advisor):
    a, b, c = new_company(advisor, 1), new_company(advisor, 2), new_company(advisor, 3)
    with pytest.raises(ValidationError):
        services.company_merge(advisor, a, a)
    services.company_merge(advisor, a, b)
    b.refresh_from_db()
    with pytest.raises(ValidationError):
        services.company_merge(advisor, c, b)
    with pytest.raises(ValidationError):
        services.company_merge(advisor, b, c)
    c.refresh_from_db()
    assert c.merged_into_id is None and c.status != "archived"


def test_history_follows_a_chain_of_merges(advisor):
    first, second, third = new_company(advisor, 1), new_company(advisor, 2), new_company(advisor, 3)
    third_created = events_of(third, Action.CREATE).get()
    services.company_merge(advisor, second, third)
    services.company_merge(advisor, first, second)
    assert third_created in selectors.company_history(first)


def test_merge_refreshes_the_survivors_size_class(advisor):
    survivor, absorbed = new_company(advisor, 1), new_company(advisor, 2)
    services.key_figures_set(advisor, absorbed, 2024, figures(20, 50))
    services.company_merge(advisor, survivor, absorbed)
    survivor.refresh_from_db()
    assert survivor.size_class == "small"


# --- Duplicates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("Storsjöns Mekaniska AB", "storsjöns mekaniska"),
        ("AKTIEBOLAGET Storsjöns  Mekaniska", "storsjöns mekaniska"),
        ("Berg & Söner HB", "berg söner"),
        ("Ekonomisk förening Jämtkraft-Service", "jämtkraft service"),
        ("AB", ""),
    ],
)
def test_normalise_name(name, normalised):
    assert normalise_name(name) == normalised


def test_name_similarity():
    assert name_similarity("storsjöns mekaniska", "storsjöns mekaniska") == 1.0
    assert name_similarity("storsjöns mekaniska", "storsjöns mekanisk") > 0.88
    assert name_similarity("storsjöns mekaniska", "brunflo trä") < 0.5


def key(pk, name, municipality="2380"):
    return CompanyKey(id=pk, name=name, municipality=municipality, org_number=org(pk))


def test_duplicate_pairs_same_and_similar_names():
    pairs = duplicate_pairs([
        key(1, "Storsjöns Mekaniska AB"),
        key(2, "Storsjöns Mekaniska"),
        key(3, "Storsjöns Mekanik AB"),
        key(4, "Brunflo Trä AB"),
        key(5, "Storsjöns Mekaniska AB", municipality="2309"),  # another municipality
        key(6, "AB"),  # nothing left after normalising
        key(7, "AB", municipality="2309"),
    ])
    assert [(p.first, p.second, p.reason) for p in pairs] == [
        (1, 2, "same_name"), (1, 3, "similar_name"), (2, 3, "similar_name"),
    ]
    assert pairs[0].similarity == 1.0
    assert 0.88 <= pairs[1].similarity < 1


def test_duplicate_pairs_skip_dismissed_pairs():
    companies = [key(2, "Storsjöns Mekaniska AB"), key(1, "Storsjöns Mekaniska")]
    assert len(duplicate_pairs(companies)) == 1
    assert duplicate_pairs(companies, {(1, 2)}) == []


def test_likely_duplicates_and_dismissal(advisor, make_user):
    a = CompanyFactory(name="Storsjöns Mekaniska AB")
    b = CompanyFactory(name="Storsjöns mekaniska")
    CompanyFactory(name="Storsjöns Mekaniska", status="archived")
    merged = CompanyFactory(name="STORSJÖNS MEKANISKA AB")
    Company.objects.filter(pk=merged.pk).update(merged_into=a)
    CompanyFactory(name="Storsjöns Mekaniska AB", municipality_id="0180")
    found = selectors.likely_duplicates()
    assert [(p["first"], p["second"], p["reason"]) for p in found] == [(a, b, "same_name")]
    assert found[0]["first"].municipality.name == "Östersund"

    admin = make_user(Role.ADMIN)
    services.duplicate_dismiss(admin, b, a)
    services.duplicate_dismiss(admin, a, b)
    dismissed = NotDuplicate.objects.get()
    assert (dismissed.first_id, dismissed.second_id, dismissed.decided_by) == (a.pk, b.pk, admin)
    assert selectors.likely_duplicates() == []


def test_merge_forgets_dismissals_of_the_absorbed(advisor):
    a, b, c = new_company(advisor, 1), new_company(advisor, 2), new_company(advisor, 3)
    services.duplicate_dismiss(advisor, a, b)
    services.duplicate_dismiss(advisor, b, c)
    services.company_merge(advisor, a, b)
    assert not NotDuplicate.objects.exists()


def test_contacts_cannot_be_added_to_an_archived_company(make_user):
    from django.core.exceptions import ValidationError as DjangoValidationError

    from sim.companies.tests.factories import CompanyFactory as _CompanyFactory

    company = _CompanyFactory()
    services.company_archive(None, company)
    with pytest.raises(DjangoValidationError, match="Restore the company"):
        services.contact_create(None, company, {"name": "Ny Person", "legal_basis": "legitimate_interest"})
