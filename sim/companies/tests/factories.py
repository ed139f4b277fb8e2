import datetime as dt
from decimal import Decimal

import factory

from sim.companies import rules
from sim.companies.models import (
    Company,
    CompanyRepresentative,
    Contact,
    KeyFigures,
    LegalBasis,
    OwnershipLink,
)
from sim.companies.services import search_text_for


def make_org_number(n: int, *, first: str = "5") -> str:
    """A valid legal-entity organisation number (digits 3-4 >= 20) built from a sequence number."""
    nine = f"{first}5{6 + (n // 10_000_000) % 4}{n % 10_000_000:06d}"[:9]
    return nine + rules.luhn_check_digit(nine)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    org_number = factory.Sequence(lambda n: make_org_number(n + 1000))
    name = factory.Sequence(lambda n: f"Testföretaget {n} AB")
    legal_form = "ab"
    sni_primary = "25620"
    municipality_id = "2380"
    status = "active"
    search_text = factory.LazyAttribute(lambda c: search_text_for(c.name, c.org_number))


class KeyFiguresFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyFigures

    company = factory.SubFactory(CompanyFactory)
    fiscal_year = 2024
    staff_awu = Decimal("12.0")
    turnover_sek = Decimal("15000000")
    balance_sheet_sek = Decimal("8000000")
    source = "annual report"


class OwnershipLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OwnershipLink

    holder = factory.SubFactory(CompanyFactory)
    held = factory.SubFactory(CompanyFactory)
    capital_pct = Decimal("60")
    voting_pct = Decimal("60")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    company = factory.SubFactory(CompanyFactory)
    name = factory.Faker("name", locale="sv_SE")
    role = "VD"
    email = factory.Sequence(lambda n: f"kontakt{n}@example.se")
    legal_basis = LegalBasis.LEGITIMATE_INTEREST
    notes = "Vill växa på exportmarknaden."


class CompanyRepresentativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanyRepresentative

    company = factory.SubFactory(CompanyFactory)


def consent_contact(**kwargs) -> Contact:
    return ContactFactory(legal_basis=LegalBasis.CONSENT, consent_date=dt.date(2024, 3, 1), **kwargs)
