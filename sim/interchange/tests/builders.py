"""A small project with a row in every part of the export (fast; the demo is the big case)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from sim.activities.models import Activity, Event, Registration
from sim.assessments.models import Assessment, GrowthAction, GrowthGoal, GrowthPlan, InstrumentVersion, Need
from sim.companies.models import Contact, LegalBasis
from sim.companies.services import contact_erase
from sim.companies.tests.factories import (
    CompanyFactory,
    ContactFactory,
    KeyFiguresFactory,
    OwnershipLinkFactory,
    make_org_number,
)
from sim.competence.models import CompetenceNeed, NeedConcept
from sim.competence.tests.factories import ConceptFactory, SkillFactory
from sim.core.roles import Role
from sim.core.tests.factories import UserFactory
from sim.finance.models import BudgetLine, BudgetScenario, CostEntry, FinancingSource, StaffRate, TimeReport
from sim.programmes.models import (
    FocusArea,
    FollowUp,
    Intervention,
    InterventionStatus,
    Offer,
    Organisation,
    Project,
    ProjectMembership,
    ProjectPartner,
    Referral,
    ReferralStatus,
)
from sim.reporting.models import IndicatorEntry, IndicatorMilestone, ProjectIndicator, ProjectIndicatorSet
from sim.stateaid.models import AidAward, AwardStatus, ExchangeRate, UndertakingProfile

SOLE_TRADER = "6505121234"  # a personal identity number (digits 3-4 below 20)


def build_project(code: str = "ix-test") -> Project:
    pm = UserFactory(username="ix-pm", role=Role.PROJECT_MANAGER)
    advisor = UserFactory(username="ix-advisor", role=Role.ADVISOR)
    finance = UserFactory(username="ix-finance", role=Role.FINANCE_OFFICER)
    owner = Organisation.objects.create(name="Region Testlän", kind="public", org_number="2321000000")
    centre = Organisation.objects.create(name="Teknikcentrum", kind="development")
    custom_area = FocusArea.objects.create(key="ix-custom", name_sv="Eget område", name_en="Own area", order=9)
    production = FocusArea.objects.get(key="production_efficiency")
    project = Project.objects.create(
        code=code, name="Exportprov", start_date=dt.date(2024, 1, 1), end_date=dt.date(2026, 12, 31),
        owner=owner, company_support_budget_sek=Decimal("2500000.00"), min_support_hours=Decimal("10.0"),
    )
    project.counties.set(["23"])
    project.municipalities.set(["2380", "2309"])
    project.focus_areas.set([production, custom_area])
    own = ProjectPartner.objects.create(project=project, organisation=owner, role=ProjectPartner.Role.OWNER)
    other = ProjectPartner.objects.create(project=project, organisation=centre)
    for user in (pm, advisor, finance):
        ProjectMembership.objects.create(project=project, user=user, organisation=owner)

    first = CompanyFactory(name="Alfa Verkstad AB", owner_advisor=advisor, sni_secondary=["28990"], size_class="small",
                           size_class_year=2024, growth_ambition=True)
    second = CompanyFactory(name="Beta Plast AB")
    sole = CompanyFactory(name="Gammas Svets", org_number=SOLE_TRADER, is_sole_trader=True, legal_form="ef",
                          municipality_id=None)
    # Before the company it was merged into in organisation-number order: the reference points forward.
    old = CompanyFactory(org_number=make_org_number(1), name="Alfa Gamla AB", status="archived", merged_into=first, archived_at=timezone.now())
    KeyFiguresFactory(company=first, fiscal_year=2023, staff_awu=Decimal("11.50"))
    KeyFiguresFactory(company=first, fiscal_year=2024)
    OwnershipLinkFactory(holder=first, held=second, capital_pct=Decimal("75.00"), voting_pct=Decimal("75.00"), controls=True)
    ceo = ContactFactory(company=first, name="Anna Andersson", legal_basis=LegalBasis.CONSENT, consent_date=dt.date(2024, 2, 1))
    erased = ContactFactory(company=second, name="Bo Bengtsson", opted_out_at=timezone.now())
    contact_erase(None, erased, reason="request")
    ContactFactory(company=sole, name="Gun Gammal", email="")

    offer = Offer.objects.create(project=project, title_sv="Lean-lyftet", provider=centre, typical_value_sek=Decimal("50000"),
                                 eligibility={"size_classes": ["micro", "small"]})
    offer.focus_areas.set([production])
    voucher = Offer.objects.create(project=project, title_sv="Checken", kind=Offer.Kind.VOUCHER, support_form="grant",
                                 is_state_aid=True, aid_scheme="de minimis")

    version = InstrumentVersion.objects.order_by("key", "version").first()
    t0 = Assessment.objects.create(company=first, instrument_version=version, status="completed", led_by=advisor,
                                   answers={"q1": 3, "notes": "bra"}, answer_versions={"q1": 2}, completed_at=timezone.now(),
                                   completed_by=advisor, scores={"overall": 55.5}, overall_score=Decimal("55.5"),
                                   overall_band="developing", created_by=advisor)
    Assessment.objects.create(company=first, instrument_version=version, status="completed", completed_at=timezone.now(),
                              revises=t0, revision_reason="typo", answers={"q1": 4})
    need = Need.objects.create(company=first, assessment=t0, focus_area=production, title="Flöde", score=Decimal("31.0"),
                               source=Need.Source.DERIVED)
    plan = GrowthPlan.objects.create(company=first, assessment=t0, title="Plan 2025", status="agreed",
                                     period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31), agreed_on=dt.date(2025, 1, 10))
    goal = GrowthGoal.objects.create(plan=plan, title="Omsättning", metric="turnover_sek", baseline=Decimal("15000000.00"),
                                     target=Decimal("18000000.00"), target_date=dt.date(2026, 12, 31))
    referral = Referral.objects.create(project=project, company=first, offer=offer, status=ReferralStatus.STARTED,
                                       advisor=advisor, proposed_on=dt.date(2025, 2, 1), accepted_on=dt.date(2025, 2, 3),
                                       started_on=dt.date(2025, 2, 10), created_by=advisor)
    Referral.objects.create(project=project, company=sole, offer=offer, status=ReferralStatus.DECLINED,
                            proposed_on=dt.date(2025, 3, 1), declined_on=dt.date(2025, 3, 2), reason="no time")
    intervention = Intervention.objects.create(
        project=project, company=first, title="Automation", focus_area=production, provider=centre,
        budget_sek=Decimal("200000.00"), aid_amount_sek=Decimal("150000.00"), status=InterventionStatus.DELIVERED,
        approved_by=pm, approved_on=dt.date(2025, 3, 1), delivered_on=dt.date(2025, 6, 1), created_by=advisor,
    )
    intervention.growth_goals.set([goal])
    GrowthAction.objects.create(plan=plan, title="Köp robot", focus_area=production, need=need, referral=referral,
                                intervention=intervention, due_date=dt.date(2025, 5, 1))
    FollowUp.objects.create(project=project, company=first, title="T1", due_on=dt.date(2025, 12, 1), assigned_to=advisor,
                            kind=FollowUp.Kind.T1_DUE, source_key=f"intervention:{intervention.pk}")
    FollowUp.objects.create(project=project, company=first, title="Stale", due_on=dt.date(2025, 4, 1),
                            kind=FollowUp.Kind.STALE_REFERRAL, source_key=f"referral:{referral.pk}:2025-02-10")

    activity = Activity.objects.create(project=project, company=first, hours=Decimal("3.50"), date=dt.date(2025, 2, 1),
                                       focus_area=production, subject="Besök", created_by=advisor)
    activity.advisors.set([advisor, pm])
    activity.contacts.set([ceo])
    event = Event.objects.create(project=project, title="Industrins dag", starts_at=timezone.now(), capacity=50)
    event.focus_areas.set([custom_area])
    Registration.objects.create(event=event, company=second, contact=Contact.objects.get(pk=erased.pk), name="—", attended=True)
    Registration.objects.create(event=event, name="Gäst", organisation_name="Kommunen")
    Registration.objects.create(event=event, company=old, name="Förre VD:n", attended=False)

    scenario = BudgetScenario.objects.create(project=project, name="Bas", start_date=dt.date(2024, 1, 1),
                                             end_date=dt.date(2026, 12, 31), is_adopted=True, created_by=finance)
    BudgetLine.objects.create(scenario=scenario, partner=own, category="staff", year=2025, amount_sek=Decimal("900000.00"))
    BudgetLine.objects.create(scenario=scenario, partner=None, category="travel", year=2025, quarter=2, amount_sek=Decimal("10000"))
    FinancingSource.objects.create(scenario=scenario, kind="erdf", rate_pct=Decimal("40.00"))
    FinancingSource.objects.create(scenario=scenario, kind="private_in_kind", hours=Decimal("120.0"))
    cost = CostEntry.objects.create(project=project, partner=other, category="company_support", date=dt.date(2025, 6, 30),
                                    amount_sek=Decimal("120000.00"), voucher="V1", intervention=intervention, company=first,
                                    recorded_by=finance)
    CostEntry.objects.create(project=project, partner=other, category="company_support", date=dt.date(2025, 7, 1),
                             amount_sek=Decimal("-120000.00"), voucher="V1", reverses=cost, description="fel")
    CostEntry.objects.create(project=project, category="travel", date=dt.date(2025, 7, 2), amount_sek=Decimal("845.50"),
                             voucher="V2", company=sole)
    StaffRate.objects.create(project=project, person=advisor, partner=own, valid_from=dt.date(2024, 1, 1),
                             monthly_salary_sek=Decimal("45000.00"))
    TimeReport.objects.create(project=project, person=advisor, partner=own, month=dt.date(2025, 2, 1), focus_area=production,
                              hours=Decimal("80.00"), hourly_cost_sek=Decimal("395.12"))

    welder = SkillFactory(preferred_label_sv="Svetsning")
    operator = ConceptFactory(broader=[])
    comp = CompetenceNeed.objects.create(company=first, project=project, assessment=t0, text="Två svetsare", people=2,
                                         municipality_id="2380", created_by=advisor)
    NeedConcept.objects.create(need=comp, concept=welder, confirmed=True, score=0.875, confirmed_by=advisor)
    NeedConcept.objects.create(need=comp, concept=operator, score=0.5)

    UndertakingProfile.objects.create(company=second, road_freight=True, fiscal_year_start="07-01")
    ExchangeRate.objects.create(date=dt.date(2025, 1, 1), sek_per_eur=Decimal("11.4900"), source="ECB")
    award = AidAward.objects.create(undertaking=first, granting_authority="Region Testlän", measure="Automation",
                                    intervention=intervention, regulation="2023/2831", granted_on=dt.date(2025, 3, 1),
                                    amount_sek=Decimal("150000.00"), amount_eur=Decimal("13054.83"),
                                    sek_per_eur=Decimal("11.4900"), rate_date=dt.date(2025, 1, 1), status=AwardStatus.GRANTED)
    AidAward.objects.create(undertaking=first, granting_authority="Region Testlän", measure="Automation",
                            intervention=intervention, regulation="2023/2831", granted_on=dt.date(2025, 3, 1),
                            amount_sek=Decimal("150000.00"), amount_eur=Decimal("13054.83"), status=AwardStatus.REVOKED,
                            reverses=award, revoked_on=dt.date(2025, 4, 1), reason="cancelled")
    AidAward.objects.create(undertaking=first, granting_authority="Tillväxtverket", measure="Earlier aid", declared=True,
                            regulation="2023/2831", granted_on=dt.date(2024, 5, 1), amount_sek=Decimal("50000.00"),
                            amount_eur=Decimal("4400.00"), status=AwardStatus.GRANTED)
    AidAward.objects.create(undertaking=sole, granting_authority="Region Testlän", measure="Checken", offer=voucher,
                            regulation="2023/2831", granted_on=dt.date(2025, 8, 1), amount_sek=Decimal("20000.00"),
                            amount_eur=Decimal("1740.64"), status=AwardStatus.PROPOSED)
    ProjectIndicatorSet.objects.create(project=project, set_key="erdf-2021-2027", new_enterprise_years=3)
    rco01 = ProjectIndicator.objects.create(project=project, code="RCO01", method="supported", unit="enterprises",
                                            name_sv="Stödda företag", target=Decimal("40.00"))
    own_indicator = ProjectIndicator.objects.create(project=project, code="OWN1", own=True, name_sv="Nätverksträffar")
    IndicatorMilestone.objects.create(indicator=rco01, date=dt.date(2025, 12, 31), value=Decimal("20.00"))
    IndicatorEntry.objects.create(indicator=own_indicator, date=dt.date(2025, 3, 1), value=Decimal("4.00"), note="Fyra träffar",
                                  created_by=pm)
    assert old.merged_into == first
    return project
