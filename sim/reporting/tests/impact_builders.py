"""A project with enough supported and comparison companies for the impact comparison.

On top of :func:`build_world` (alfa, beta supported with figures; delta supported without; gamma
touched but not supported): ``n_supported`` companies with a grant approved 2024-03-01, and
``n_control`` target-group companies the project never touched, all SNI 25620 in Östersund with
10 AWU and 15 MSEK in 2023. Staff in 2025: supported 10 + (i % 4) + 2, comparison 10 + (i % 3);
turnover in 2025: supported 15 MSEK × (1.2 + 0.01 i), comparison 15 MSEK × (1 + 0.01 i). Outside
the comparison: a company outside the target county and one in another SNI division with figures.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from sim.companies.tests.factories import CompanyFactory, KeyFiguresFactory
from sim.programmes.models import InterventionStatus

from .builders import build_world, make_intervention

BASE_STAFF = Decimal("10")
BASE_TURNOVER = Decimal("15000000")


def supported_staff(i: int) -> Decimal:
    return BASE_STAFF + i % 4 + 2


def control_staff(i: int) -> Decimal:
    return BASE_STAFF + i % 3


def supported_turnover(i: int) -> Decimal:
    return BASE_TURNOVER * (Decimal("1.2") + Decimal(i) / 100)


def control_turnover(i: int) -> Decimal:
    return BASE_TURNOVER * (1 + Decimal(i) / 100)


def figures(company, staff_2025: Decimal, turnover_2025: Decimal) -> None:
    KeyFiguresFactory(company=company, fiscal_year=2023, staff_awu=BASE_STAFF, turnover_sek=BASE_TURNOVER,
                      balance_sheet_sek=Decimal("8000000"))
    KeyFiguresFactory(company=company, fiscal_year=2025, staff_awu=staff_2025, turnover_sek=turnover_2025,
                      balance_sheet_sek=Decimal("8000000"))


def add_companies(project, n_supported: int, n_control: int, first: int = 0) -> tuple[list, list]:
    """The supported cohort and the comparison companies (indices from ``first``)."""
    supported, controls = [], []
    for i in range(first, first + n_supported):
        company = CompanyFactory(name=f"Stödd {i} AB")
        figures(company, supported_staff(i), supported_turnover(i))
        make_intervention(project, company, status=InterventionStatus.APPROVED, approved_on=dt.date(2024, 3, 1),
                          support_form="grant")
        supported.append(company)
    for i in range(first, first + n_control):
        company = CompanyFactory(name=f"Jämförelse {i} AB")
        figures(company, control_staff(i), control_turnover(i))
        controls.append(company)
    return supported, controls


def build_impact_world(n_supported: int = 12, n_control: int = 12) -> dict:
    world = build_world()
    supported, controls = add_companies(world["project"], n_supported, n_control)
    outside = CompanyFactory(name="Stockholmsbolaget AB", municipality_id="0180")
    figures(outside, Decimal("100"), BASE_TURNOVER * 10)
    other_division = CompanyFactory(name="Livsmedel AB", sni_primary="10110")
    figures(other_division, Decimal("100"), BASE_TURNOVER * 10)
    return {**world, "supported": supported, "controls": controls, "outside": outside,
            "other_division": other_division}


def expected_did(measure: str, n_supported: int = 12, n_control: int = 12) -> float:
    """The DiD by hand: one cell (small enterprises of SNI division 25, 2023 → 2025), so the plain
    difference of the mean log growths. Beta (small, 20 → 18 AWU, 30 → 40 MSEK) is in the cell too;
    alfa (micro) has no comparison company and delta no figures."""
    if measure == "staff":
        t = [math.log(18 / 20)] + [math.log(supported_staff(i) / BASE_STAFF) for i in range(n_supported)]
        c = [math.log(control_staff(i) / BASE_STAFF) for i in range(n_control)]
    else:
        t = [math.log(40 / 30)] + [math.log(supported_turnover(i) / BASE_TURNOVER) for i in range(n_supported)]
        c = [math.log(control_turnover(i) / BASE_TURNOVER) for i in range(n_control)]
    return sum(t) / len(t) - sum(c) / len(c)
