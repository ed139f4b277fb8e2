"""A synthetic programme at scale, for ``bench/reporting_bench.py``.

    generate(scale=1.0, seed=1) -> GeneratedProgramme

Full scale (``scale=1``): 100,000 companies (70 % in Jämtland, the project's county), 20,000 of them
supported in the project, 500,000 advisor activities, 50,000 referrals and 50,000 company-specific
interventions, 20,000 de minimis aid awards, key figures 2019–2025 for the supported companies (and
a few years for the others) so that the result indicators have data, a few hundred ownership
links, events with registrations, an adopted budget with cost entries, and the ERDF 2021–2027
indicator set with targets. Every count scales with ``scale`` (``0.1`` for a quick run).

Who is supported is decided up front and the rest is built around it: each supported company gets
at least one qualifying support in the project (an approved intervention, a referral that started,
or activities totalling at least 12 hours); the other companies that the project touched get only
activities below 12 hours in total, referrals that never started and interventions that were never
approved or were cancelled. So the report must count exactly ``supported`` enterprises for the whole
project (the benchmark checks it).

Deterministic: the same ``scale`` and ``seed`` give the same rows (ids included). Fast: rows are
built as tuples in Python and written with ``executemany`` in one transaction (SQLite) or ``COPY``
(PostgreSQL), with explicit ids (the sequences are reset afterwards). Business rules the services
enforce are respected by construction (statuses with their dates, one open referral per company and
offer, one granted award per intervention, revocations reversing a granted award); no audit events
are written (a bulk load, as a migration from another system would be). Use only on a fresh,
migrated benchmark database.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

PROJECT_CODE = "bench-programme"
SET_KEY = "erdf-2021-2027"
PROJECT_START = dt.date(2022, 1, 1)
PROJECT_END = dt.date(2026, 12, 31)
LAST_WORK_DAY = dt.date(2026, 11, 20)
COUNTY = "23"  # Jämtland
MIN_HOURS = Decimal("12")

FULL = {
    "companies": 100_000,
    "supported": 20_000,
    "activities": 500_000,
    "referrals": 50_000,
    "interventions": 50_000,
    "aid_awards": 20_000,
    "events": 1_000,
    "cost_entries": 20_000,
    "ownership_links": 300,
}
N_ADVISORS = 40
N_OFFERS = 200
PM_USERNAME = "bench-pm"


@dataclass
class GeneratedProgramme:
    project_id: int
    pm_username: str
    counts: dict[str, int] = field(default_factory=dict)
    supported: int = 0
    seconds: float = 0.0


def sizes(scale: float) -> dict[str, int]:
    return {key: max(1, round(value * scale)) for key, value in FULL.items()}


# --- Writing rows ---------------------------------------------------------------------------------


class Writer:
    """Writes rows (dicts of attribute names, missing ones from the field defaults) of a model."""

    def __init__(self, connection) -> None:
        from django.utils import timezone

        self.connection = connection
        self.vendor = connection.vendor
        self.now = timezone.now()
        self.counts: dict[str, int] = {}

    def _columns(self, model):
        from django.db import models

        columns, defaults, kinds = [], [], []
        for f in model._meta.concrete_fields:
            columns.append(f.column)
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                default = self.now
            elif f.has_default() or not f.primary_key:
                default = f.get_default()
            else:
                default = None
            defaults.append(default)
            if isinstance(f, models.DateTimeField):
                kinds.append("datetime")
            elif isinstance(f, models.JSONField):
                kinds.append("json")
            elif isinstance(f, models.DateField):
                kinds.append("date")
            else:
                kinds.append("")
        return columns, defaults, kinds, [f.attname for f in model._meta.concrete_fields]

    def _adapt(self, value, kind):
        if value is None:
            return None
        if self.vendor == "sqlite":
            if kind == "datetime":
                return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
            if kind == "date":
                return value.isoformat()
            if kind == "json":
                return json.dumps(value)
            if isinstance(value, Decimal):
                return str(value)
            return value
        if kind == "json":
            from psycopg.types.json import Jsonb

            return Jsonb(value)
        return value

    def write(self, model, rows: list[dict]) -> None:
        if not rows:
            return
        columns, defaults, kinds, attnames = self._columns(model)
        index = {name: i for i, name in enumerate(attnames)}
        base = [self._adapt(d, k) for d, k in zip(defaults, kinds, strict=True)]
        tuples = []
        for row in rows:
            values = list(base)
            for name, value in row.items():
                i = index[name]
                values[i] = self._adapt(value, kinds[i])
            tuples.append(values)
        table = model._meta.db_table
        quoted = ", ".join(self.connection.ops.quote_name(c) for c in columns)
        self.connection.ensure_connection()
        raw = self.connection.connection
        if self.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY {self.connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
                for values in tuples:
                    copy.write_row(values)
        else:
            placeholders = ", ".join("?" * len(columns))
            sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({placeholders})'
            for start in range(0, len(tuples), 20_000):
                raw.executemany(sql, tuples[start:start + 20_000])
        self.counts[table] = self.counts.get(table, 0) + len(tuples)

    def reset_sequences(self, models) -> None:
        from django.core.management.color import no_style

        statements = self.connection.ops.sequence_reset_sql(no_style(), models)
        if statements:
            with self.connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


class Ids:
    """Explicit primary keys, continuing after what the migrations created."""

    def __init__(self) -> None:
        self.next: dict[type, int] = {}

    def take(self, model) -> int:
        if model not in self.next:
            last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
            self.next[model] = (last or 0) + 1
        value = self.next[model]
        self.next[model] = value + 1
        return value


# --- The programme --------------------------------------------------------------------------------


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _org_numbers(n: int, rng: random.Random) -> list[str]:
    from sim.companies.rules import luhn_check_digit

    series = ["556", "559", "969", "916", "769"]
    numbers = []
    for i in range(n):
        nine = f"{series[i % len(series)]}{i // len(series):06d}"
        numbers.append(nine + luhn_check_digit(nine))
    rng.shuffle(numbers)
    return numbers


def generate(scale: float = 1.0, seed: int = 1, log=print) -> GeneratedProgramme:  # noqa: C901 - one recipe, read top to bottom
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from sim.activities.models import Activity, Event, Registration
    from sim.companies.models import Company, KeyFigures, Municipality, OwnershipLink
    from sim.core.roles import Role
    from sim.finance.models import BudgetLine, BudgetScenario, CostCategory, CostEntry
    from sim.programmes.models import (
        FocusArea,
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
    from sim.reporting import services as reporting_services
    from sim.stateaid.models import AidAward, AwardStatus
    from sim.stateaid.rules import regulation_for

    n = sizes(scale)
    rng = random.Random(seed)
    started = time.perf_counter()
    User = get_user_model()
    writer = Writer(connection)
    ids = Ids()
    municipalities = list(Municipality.objects.values_list("code", "county_id"))
    home = [code for code, county in municipalities if county == COUNTY]
    away = [code for code, county in municipalities if county != COUNTY]
    areas = list(FocusArea.objects.order_by("order", "pk"))
    area_ids = [a.pk for a in areas]

    with transaction.atomic():
        # People and organisations (through the ORM: a few rows).
        owner = Organisation.objects.create(name="Region Jämtland Härjedalen (bench)", kind=Organisation.Kind.PUBLIC)
        partner_orgs = [owner] + [
            Organisation.objects.create(name=f"Partner {i} (bench)", kind=kind)
            for i, kind in enumerate([Organisation.Kind.DEVELOPMENT, Organisation.Kind.RESEARCH, Organisation.Kind.DEVELOPMENT])
        ]
        providers = [
            Organisation.objects.create(name=f"Leverantör {i:02d} (bench)",
                                        kind=Organisation.Kind.RESEARCH if i % 6 == 0 else Organisation.Kind.CONSULTANT)
            for i in range(30)
        ]
        project = Project.objects.create(code=PROJECT_CODE, name="Benchmark programme", start_date=PROJECT_START,
                                         end_date=PROJECT_END, owner=owner, min_support_hours=MIN_HOURS)
        project.focus_areas.set(areas)
        partners = [ProjectPartner.objects.create(project=project, organisation=o,
                                                  role=ProjectPartner.Role.OWNER if o is owner else ProjectPartner.Role.PARTNER)
                    for o in partner_orgs]
        advisor_group = Group.objects.get(name=Role.ADVISOR.value)
        pm = User.objects.create_user(PM_USERNAME, f"{PM_USERNAME}@example.org", "bench-password-not-secret")
        pm.groups.add(Group.objects.get(name=Role.PROJECT_MANAGER.value))
        ProjectMembership.objects.create(project=project, user=pm, organisation=owner)
        advisors = []
        for i in range(N_ADVISORS):
            user = User.objects.create_user(f"bench-advisor-{i:02d}", f"bench-advisor-{i:02d}@example.org")
            user.groups.add(advisor_group)
            ProjectMembership.objects.create(project=project, user=user, organisation=partner_orgs[i % len(partner_orgs)])
            advisors.append(user.pk)
        offers = []
        for i in range(N_OFFERS):
            form = rng.choices(["non_financial", "grant", "financial"], [6, 3, 1])[0]
            offers.append(Offer(project=project, title_sv=f"Erbjudande {i:03d}", provider=rng.choice(providers),
                                support_form=form, kind=rng.choice(list(Offer.Kind.values))))
        Offer.objects.bulk_create(offers)
        offer_ids = list(Offer.objects.filter(project=project).order_by("pk").values_list("pk", flat=True))
        Offer.focus_areas.through.objects.bulk_create([
            Offer.focus_areas.through(offer_id=o, focusarea_id=a) for o in offer_ids for a in rng.sample(area_ids, rng.randint(1, 2))
        ])
        provider_ids = [p.pk for p in providers]

        # Companies: the supported, the touched but not supported, and the rest of the register.
        orgs = _org_numbers(n["companies"], rng)
        company_ids = []
        company_rows = []
        for i in range(n["companies"]):
            pk = ids.take(Company)
            company_ids.append(pk)
            registered = None
            r = rng.random()
            if r < 0.12:
                registered = _day(rng, dt.date(2020, 1, 1), dt.date(2025, 12, 31))
            elif r < 0.95:
                registered = _day(rng, dt.date(1950, 1, 1), dt.date(2019, 12, 31))
            name = f"Bench {i:06d} AB"
            company_rows.append({
                "id": pk, "org_number": orgs[i], "name": name, "legal_form": "ab",
                "sni_primary": rng.choice(["25620", "25110", "28410", "16230", "10710", "62010", "71121", "46690"]),
                "municipality_id": rng.choice(home if rng.random() < 0.7 else away),
                "registration_date": registered,
                "size_class": rng.choices(["micro", "small", "medium", "large", ""], [55, 28, 10, 3, 4])[0],
                "status": "active" if i < n["supported"] * 2 else "prospect",
                "search_text": f"{name.lower()} {orgs[i]}",
            })
        writer.write(Company, company_rows)
        del company_rows
        supported = company_ids[:n["supported"]]
        touched = company_ids[n["supported"]:2 * n["supported"]]
        engaged = supported + touched

        # Key figures: 2019–2025 for the supported (a few years missing), 2022–2024 for the touched,
        # one year for half the rest.
        figure_rows = []

        def figures(company_id: int, years: range, gaps: float) -> None:
            staff = Decimal(rng.choice([1, 2, 3, 5, 8, 12, 20, 35, 60, 120, 300]))
            turnover = staff * Decimal(rng.randint(600, 2500)) * 1000
            for year in years:
                staff = max(Decimal("0.5"), (staff * Decimal(rng.uniform(0.85, 1.2))).quantize(Decimal("0.01")))
                turnover = (turnover * Decimal(rng.uniform(0.85, 1.25))).quantize(Decimal("1"))
                if rng.random() < gaps:
                    continue
                figure_rows.append({
                    "id": ids.take(KeyFigures), "company_id": company_id, "fiscal_year": year,
                    "staff_awu": staff, "turnover_sek": turnover,
                    "balance_sheet_sek": (turnover * Decimal(rng.uniform(0.3, 1.1))).quantize(Decimal("1")),
                    "source": "bench",
                })

        for company_id in supported:
            figures(company_id, range(2019, 2026), 0.08)
        for company_id in touched:
            figures(company_id, range(2022, 2025), 0.1)
        for company_id in company_ids[2 * n["supported"]:]:
            if rng.random() < 0.5:
                figures(company_id, range(2024, 2025), 0.0)
        writer.write(KeyFigures, figure_rows)
        n_figures = len(figure_rows)
        figure_rows.clear()

        # Ownership links among supported companies (parents in the register): the full SME rule.
        links, seen = [], set()
        while len(links) < n["ownership_links"] and len(supported) > 1:
            holder, held = rng.choice(company_ids), rng.choice(supported)
            if holder == held or (holder, held) in seen or (held, holder) in seen:
                continue
            seen.add((holder, held))
            pct = Decimal(rng.choice([30, 51, 75, 100]))
            links.append({"id": ids.take(OwnershipLink), "holder_id": holder, "held_id": held, "capital_pct": pct,
                          "voting_pct": pct, "controls": pct > 50, "source": "bench"})
        writer.write(OwnershipLink, links)

        # How each supported company qualifies: by an intervention, a started referral, activity hours.
        by_intervention, by_referral, by_activities = [], [], []
        for company_id in supported:
            ways = [rng.random() < 0.55, rng.random() < 0.45, rng.random() < 0.6]
            if not any(ways):
                ways[rng.randrange(3)] = True
            if ways[0]:
                by_intervention.append(company_id)
            if ways[1]:
                by_referral.append(company_id)
            if ways[2]:
                by_activities.append(company_id)
        qualifying_by_activities = set(by_activities)

        # Interventions: 80 % committed (for companies qualifying by one), the rest drafts and cancelled.
        committed_statuses = [InterventionStatus.APPROVED, InterventionStatus.IN_PROGRESS, InterventionStatus.DELIVERED,
                              InterventionStatus.CLOSED]
        n_committed = max(len(by_intervention), round(n["interventions"] * 0.8))
        intervention_rows, granted_candidates = [], []
        for k in range(n["interventions"]):
            if k < n_committed:
                company_id = by_intervention[k] if k < len(by_intervention) else rng.choice(by_intervention)
                status = rng.choice(committed_statuses)
                approved = _day(rng, PROJECT_START, LAST_WORK_DAY - dt.timedelta(days=30))
                cancelled = None
            else:
                company_id = rng.choice(engaged)
                status = rng.choice([InterventionStatus.DRAFT, InterventionStatus.CANCELLED])
                approved = None
                cancelled = _day(rng, PROJECT_START, LAST_WORK_DAY) if status == InterventionStatus.CANCELLED else None
            form = rng.choices(["grant", "financial", "non_financial"], [6, 1, 3])[0]
            budget = Decimal(rng.randrange(20_000, 400_000, 1000))
            pk = ids.take(Intervention)
            created = dt.datetime.combine(approved or _day(rng, PROJECT_START, LAST_WORK_DAY), dt.time(9), dt.UTC) - dt.timedelta(days=rng.randint(1, 20))
            intervention_rows.append({
                "id": pk, "project_id": project.pk, "company_id": company_id, "title": f"Insats {k}",
                "focus_area_id": rng.choice(area_ids), "provider_id": rng.choice(provider_ids),
                "budget_sek": budget, "own_cash_sek": (budget * Decimal("0.3")).quantize(Decimal("1")) if rng.random() < 0.6 else Decimal(0),
                "support_form": form, "is_state_aid": form == "grant", "aid_amount_sek": budget if form == "grant" else None,
                "status": status, "approved_on": approved, "approved_by_id": rng.choice(advisors) if approved else None,
                "started_on": approved + dt.timedelta(days=10) if approved and status != InterventionStatus.APPROVED else None,
                "delivered_on": approved + dt.timedelta(days=20) if approved and status in (InterventionStatus.DELIVERED, InterventionStatus.CLOSED) else None,
                "closed_on": approved + dt.timedelta(days=25) if approved and status == InterventionStatus.CLOSED else None,
                "cancelled_on": cancelled, "cancel_reason": "Företaget avstod." if cancelled else "",
                "created_by_id": rng.choice(advisors), "created_at": created,
            })
            if approved and form == "grant":
                granted_candidates.append((pk, company_id, approved, budget))
        writer.write(Intervention, intervention_rows)
        del intervention_rows

        # Referrals: 40 % started or completed (for companies qualifying by one), the rest never started.
        n_started = max(len(by_referral), round(n["referrals"] * 0.4))
        open_pairs: set[tuple[int, int]] = set()
        referral_rows = []
        for k in range(n["referrals"]):
            if k < n_started:
                company_id = by_referral[k] if k < len(by_referral) else rng.choice(by_referral)
                status = rng.choice([ReferralStatus.STARTED, ReferralStatus.COMPLETED])
            else:
                company_id = rng.choice(engaged)
                status = rng.choice([ReferralStatus.PROPOSED, ReferralStatus.ACCEPTED, ReferralStatus.DECLINED,
                                     ReferralStatus.WITHDRAWN])
            offer_id = rng.choice(offer_ids)
            if status in (ReferralStatus.PROPOSED, ReferralStatus.ACCEPTED, ReferralStatus.STARTED):
                while (company_id, offer_id) in open_pairs:
                    offer_id = rng.choice(offer_ids)
                open_pairs.add((company_id, offer_id))
            proposed = _day(rng, PROJECT_START, LAST_WORK_DAY - dt.timedelta(days=60))
            accepted = proposed + dt.timedelta(days=7) if status != ReferralStatus.PROPOSED else None
            started_on = proposed + dt.timedelta(days=rng.randint(14, 45)) if status in (ReferralStatus.STARTED, ReferralStatus.COMPLETED) else None
            referral_rows.append({
                "id": ids.take(Referral), "project_id": project.pk, "company_id": company_id, "offer_id": offer_id,
                "status": status, "advisor_id": rng.choice(advisors), "proposed_on": proposed,
                "accepted_on": accepted if status not in (ReferralStatus.DECLINED,) else None,
                "started_on": started_on,
                "completed_on": started_on + dt.timedelta(days=10) if status == ReferralStatus.COMPLETED else None,
                "declined_on": proposed + dt.timedelta(days=5) if status == ReferralStatus.DECLINED else None,
                "withdrawn_on": proposed + dt.timedelta(days=9) if status == ReferralStatus.WITHDRAWN else None,
                "reason": "Inte aktuellt nu." if status in (ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN) else "",
                "status_changed_at": dt.datetime.combine(started_on or proposed, dt.time(10), dt.UTC),
                "created_by_id": rng.choice(advisors),
            })
        writer.write(Referral, referral_rows)
        del referral_rows

        # Activities: companies qualifying by hours get many (≥ 12 h in all); every other engaged
        # company gets at most four of at most 2.5 h (< 12 h: not supported by its activities).
        activity_rows, advisor_rows = [], []
        through = Activity.advisors.through
        few = [c for c in engaged if c not in qualifying_by_activities]
        budget_few = min(len(few) * 2, n["activities"] // 5)
        plan: list[tuple[int, bool]] = [(rng.choice(few), False) for _ in range(budget_few)] if few else []
        many = by_activities or supported
        remaining = n["activities"] - len(plan)
        # Each company qualifying by hours gets at least eight activities of at least 1.5 h (≥ 12 h).
        for company_id in many:
            plan.extend((company_id, True) for _ in range(8))
        plan = plan[:n["activities"]] if len(plan) > n["activities"] else plan
        plan.extend((rng.choice(many), True) for _ in range(max(0, remaining - 8 * len(many))))
        counts_few: dict[int, int] = {}
        kinds = list(Activity.Kind.values)
        for company_id, generous in plan:
            if generous:
                hours = Decimal(rng.choice(["1.5", "2", "2.5", "3", "4", "6", "8"]))
            else:
                used = counts_few.get(company_id, 0)
                if used >= 4:
                    company_id = rng.choice(many)
                    hours = Decimal(rng.choice(["1.5", "2", "3"]))
                else:
                    counts_few[company_id] = used + 1
                    hours = Decimal(rng.choice(["0.5", "1", "1.5", "2", "2.5"]))
            pk = ids.take(Activity)
            day = _day(rng, PROJECT_START, LAST_WORK_DAY)
            first = rng.choice(advisors)
            activity_rows.append({
                "id": pk, "project_id": project.pk, "company_id": company_id, "kind": rng.choice(kinds), "date": day,
                "hours": hours, "focus_area_id": rng.choice(area_ids) if rng.random() < 0.8 else None,
                "subject": "Rådgivning", "created_by_id": first,
                "created_at": dt.datetime.combine(day, dt.time(16), dt.UTC),
            })
            advisor_rows.append({"id": ids.take(through), "activity_id": pk, "user_id": first})
            if rng.random() < 0.2:
                second = rng.choice(advisors)
                if second != first:
                    advisor_rows.append({"id": ids.take(through), "activity_id": pk, "user_id": second})
        writer.write(Activity, activity_rows)
        writer.write(through, advisor_rows)
        n_activities = len(activity_rows)
        del activity_rows, advisor_rows

        # Events and registrations (attended, some cancelled).
        event_rows, registration_rows = [], []
        event_areas = []
        for k in range(n["events"]):
            pk = ids.take(Event)
            starts = dt.datetime.combine(_day(rng, PROJECT_START, LAST_WORK_DAY), dt.time(13), dt.UTC)
            event_rows.append({"id": pk, "project_id": project.pk, "title": f"Seminarium {k}", "starts_at": starts,
                               "ends_at": starts + dt.timedelta(hours=3), "created_by_id": rng.choice(advisors)})
            event_areas.append({"id": ids.take(Event.focus_areas.through), "event_id": pk, "focusarea_id": rng.choice(area_ids)})
            for _ in range(rng.randint(5, 25)):
                company_id = rng.choice(company_ids)
                registration_rows.append({
                    "id": ids.take(Registration), "event_id": pk, "company_id": company_id, "name": "Deltagare",
                    "attended": rng.random() < 0.8, "cancelled_at": starts - dt.timedelta(days=2) if rng.random() < 0.05 else None,
                })
        writer.write(Event, event_rows)
        writer.write(Event.focus_areas.through, event_areas)
        writer.write(Registration, registration_rows)

        # De minimis ledger: granted awards for approved grant interventions, declarations of earlier
        # aid, open proposals and revocations of granted awards.
        rng.shuffle(granted_candidates)
        n_aid = n["aid_awards"]
        n_revoked = n_aid // 10
        n_proposed = n_aid // 10
        n_declared = n_aid // 10
        n_granted = min(len(granted_candidates), n_aid - n_revoked - n_proposed - n_declared)
        n_declared = n_aid - n_revoked - n_proposed - n_granted
        award_rows, granted_ids = [], []
        rate = Decimal("11.2")

        def award(company_id, day, amount, status, **extra):
            pk = ids.take(AidAward)
            award_rows.append({
                "id": pk, "undertaking_id": company_id, "granting_authority": "Region Jämtland Härjedalen",
                "measure": "Företagsstöd (bench)", "regulation": regulation_for(day), "granted_on": day,
                "amount_sek": amount, "amount_eur": (amount / rate).quantize(Decimal("0.01")), "sek_per_eur": rate,
                "rate_date": day, "status": status, "created_at": dt.datetime.combine(day, dt.time(12), dt.UTC), **extra,
            })
            return pk

        for pk, company_id, day, amount in granted_candidates[:n_granted]:
            granted_ids.append((award(company_id, day, amount, AwardStatus.GRANTED, intervention_id=pk), company_id, day, amount))
        for _ in range(n_declared):
            day = _day(rng, dt.date(2021, 1, 1), LAST_WORK_DAY)
            award(rng.choice(engaged), day, Decimal(rng.randrange(10_000, 300_000, 1000)), AwardStatus.GRANTED, declared=True,
                  granting_authority="Tillväxtverket", measure="Tidigare stöd (intyg)")
        for _ in range(n_proposed):
            day = _day(rng, PROJECT_START, LAST_WORK_DAY)
            award(rng.choice(engaged), day, Decimal(rng.randrange(10_000, 300_000, 1000)), AwardStatus.PROPOSED)
        for reversed_pk, company_id, day, amount in rng.sample(granted_ids, min(n_revoked, len(granted_ids))):
            award(company_id, day, amount, AwardStatus.REVOKED, reverses_id=reversed_pk,
                  revoked_on=day + dt.timedelta(days=30), reason="Insatsen avbröts.")
        writer.write(AidAward, award_rows)

        # Budget and costs: an adopted scenario, quarterly lines, cost entries (some for interventions).
        scenario = BudgetScenario.objects.create(project=project, name="Beslutad budget (bench)", start_date=PROJECT_START,
                                                 end_date=PROJECT_END, is_adopted=True)
        categories = [c for c in CostCategory.values if c != CostCategory.INDIRECT]
        BudgetLine.objects.bulk_create([
            BudgetLine(scenario=scenario, category=c, year=y, quarter=q, amount_sek=Decimal(rng.randrange(100_000, 900_000, 1000)))
            for y in range(PROJECT_START.year, PROJECT_END.year + 1) for q in range(1, 5) for c in categories
        ])
        cost_rows = []
        partner_ids = [p.pk for p in partners]
        for k in range(n["cost_entries"]):
            day = _day(rng, PROJECT_START, LAST_WORK_DAY)
            category = rng.choice(categories)
            company_id = rng.choice(supported) if category == CostCategory.COMPANY_SUPPORT else None
            cost_rows.append({"id": ids.take(CostEntry), "project_id": project.pk, "partner_id": rng.choice(partner_ids),
                              "category": category, "date": day, "amount_sek": Decimal(rng.randrange(500, 80_000)),
                              "voucher": f"V{k:07d}", "company_id": company_id, "source": "import",
                              "recorded_at": dt.datetime.combine(day, dt.time(8), dt.UTC)})
        writer.write(CostEntry, cost_rows)

        writer.reset_sequences([Company, KeyFigures, OwnershipLink, Intervention, Referral, Activity, through, Event,
                                Event.focus_areas.through, Registration, AidAward, CostEntry])

        # Indicators: the 2021–2027 set with targets (through the services: a handful of rows).
        reporting_services.indicator_set_choose(pm, project, SET_KEY)
        for indicator in project.indicators.all():
            target = {"enterprises": n["supported"], "FTE": n["supported"] // 4, "SEK": 500_000_000}.get(indicator.unit, 100)
            reporting_services.indicator_target_set(pm, indicator, str(target),
                                                    [(dt.date(2024, 12, 31), Decimal(target) / 2)])
        for indicator in project.indicators.filter(method="manual")[:3]:
            reporting_services.indicator_entry_add(pm, indicator, dt.date(2024, 6, 30), "5", "Bench: recorded by hand.")

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # What autovacuum does minutes after a bulk load (PostgreSQL 13+ vacuums after inserts
            # too): statistics, and the visibility map that lets index-only scans skip the table.
            cursor.execute("VACUUM ANALYZE")
    counts = dict(writer.counts)
    counts.update({"companies": n["companies"], "activities": n_activities, "key_figures": n_figures,
                   "offers": len(offer_ids), "advisors": len(advisors)})
    result = GeneratedProgramme(project_id=project.pk, pm_username=PM_USERNAME, counts=counts,
                                supported=len(supported), seconds=time.perf_counter() - started)
    log(f"generated in {result.seconds:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in sorted(writer.counts.items())))
    return result
