"""A small project with known indicator values (the worked example of the reporting tests).

Project 2024-01-01 – 2027-12-31, set 2021–2027, minimum 12 hours. Companies (SEK per EUR = 10):

* ``alfa`` – registered 2010; key figures 2023 micro (5 AWU, 1.5 MSEK), 2025 8 AWU / 3 MSEK;
  grant intervention approved 2024-02-10 (own cash 40 000), another grant approved 2024-05-02,
  referral to a research offer started 2024-08-01 (non-financial). Counted once as supported.
* ``beta`` – registered 2023-01-15 (new); key figures 2023 small (20 AWU, 30 MSEK), 2025 18 AWU /
  40 MSEK; advisor activities 5 h (2024-03-01) + 7 h (2024-04-15) → supported 2024-04-15.
* ``gamma`` – activities of 11.5 h only (below the minimum); a draft intervention and a proposed
  referral: not supported.
* ``delta`` – financial support (loan offer) referral started 2025-01-20, own cash of a financial
  intervention approved 2025-03-01 (own cash 10 000); no key figures.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sim.activities.models import Activity
from sim.companies.tests.factories import CompanyFactory, KeyFiguresFactory
from sim.programmes.models import Intervention, InterventionStatus, Organisation, Referral, ReferralStatus
from sim.programmes.tests.routing_builders import make_offer, make_project
from sim.reporting import services

D = dt.date


def make_referral(project, company, offer, **kwargs) -> Referral:
    return Referral.objects.create(project=project, company=company, offer=offer, **kwargs)


def make_intervention(project, company, *, status=InterventionStatus.DRAFT, **kwargs) -> Intervention:
    # Stored as it is (no state-aid ledger): the reporting rules read interventions only.
    kwargs.setdefault("budget_sek", Decimal("100000"))
    kwargs.setdefault("is_state_aid", False)
    return Intervention.objects.create(project=project, company=company, title=kwargs.pop("title", "Insats"),
                                       status=status, **kwargs)


def build_world(actor=None, *, choose_set: str | None = "erdf-2021-2027") -> dict:
    project = make_project(code="rapport", name="Rapportprojektet")
    project.start_date, project.end_date = D(2024, 1, 1), D(2027, 12, 31)
    project.save()
    university = Organisation.objects.create(name="Mittuniversitetet", kind=Organisation.Kind.RESEARCH)
    research_offer = make_offer(project, title="Forskningscheck", provider=university, support_form="non_financial")
    loan_offer = make_offer(project, title="Lån", support_form="financial")
    alfa = CompanyFactory(name="Alfa Mekaniska AB", registration_date=D(2010, 5, 1))
    beta = CompanyFactory(name="Beta Plast AB", registration_date=D(2023, 1, 15))
    gamma = CompanyFactory(name="Gamma Trä AB", registration_date=D(2000, 1, 1))
    delta = CompanyFactory(name="Delta Verkstad AB", registration_date=D(2015, 1, 1))
    KeyFiguresFactory(company=alfa, fiscal_year=2023, staff_awu=Decimal("5"), turnover_sek=Decimal("1500000"),
                      balance_sheet_sek=Decimal("1000000"))
    KeyFiguresFactory(company=alfa, fiscal_year=2025, staff_awu=Decimal("8"), turnover_sek=Decimal("3000000"),
                      balance_sheet_sek=Decimal("1000000"))
    KeyFiguresFactory(company=beta, fiscal_year=2023, staff_awu=Decimal("20"), turnover_sek=Decimal("30000000"),
                      balance_sheet_sek=Decimal("20000000"))
    KeyFiguresFactory(company=beta, fiscal_year=2025, staff_awu=Decimal("18"), turnover_sek=Decimal("40000000"),
                      balance_sheet_sek=Decimal("20000000"))
    make_intervention(project, alfa, status=InterventionStatus.APPROVED, approved_on=D(2024, 2, 10),
                      own_cash_sek=Decimal("40000"), support_form="grant")
    make_intervention(project, alfa, status=InterventionStatus.CLOSED, approved_on=D(2024, 5, 2), support_form="grant")
    make_referral(project, alfa, research_offer, status=ReferralStatus.STARTED, started_on=D(2024, 8, 1))
    for day, hours in ((D(2024, 3, 1), "5"), (D(2024, 4, 15), "7")):
        Activity.objects.create(project=project, company=beta, date=day, hours=Decimal(hours))
    Activity.objects.create(project=project, company=gamma, date=D(2024, 3, 1), hours=Decimal("11.5"))
    make_intervention(project, gamma, status=InterventionStatus.DRAFT)
    make_referral(project, gamma, loan_offer)
    make_referral(project, delta, loan_offer, status=ReferralStatus.STARTED, started_on=D(2025, 1, 20))
    make_intervention(project, delta, status=InterventionStatus.IN_PROGRESS, approved_on=D(2025, 3, 1),
                      own_cash_sek=Decimal("10000"), support_form="financial")
    if choose_set:
        services.indicator_set_choose(actor, project, choose_set)
    return {"project": project, "alfa": alfa, "beta": beta, "gamma": gamma, "delta": delta}
