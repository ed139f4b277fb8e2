"""Writes of budgets: scenarios, budget lines and financing plans.

Each function validates, saves and audits in one transaction. Refusals are ``ValidationError``s
with a message a person can act on (a dict keyed by field, or by grid cell, where that helps).
Actual costs, time reports and staff rates are written by :mod:`sim.finance.services_actuals`.

Budget lines: one per scenario, partner (or none), category, year and quarter (or the whole year);
an amount left empty removes the line. A year is budgeted either as a whole or per quarter, not
both. Indirect costs are never entered: they are the scenario's flat rate on staff costs
(:mod:`sim.finance.rules`). The one adopted scenario of a project is its budget; adopting needs a
financing plan that balances.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from sim.core.audit import audit_record, snapshot
from sim.core.models import AuditEvent
from sim.programmes.models import Project, ProjectPartner

from . import rules
from .models import BudgetLine, BudgetScenario, CostCategory, FinancingSource

Action = AuditEvent.Action
Source = AuditEvent.Source

SCENARIO_FIELDS = (
    "name", "description", "start_date", "end_date", "indirect_rate_pct", "company_share_target_pct",
    "advisor_company_facing_pct", "in_kind_hourly_rate_sek",
)
PERCENT_FIELDS = ("indirect_rate_pct", "company_share_target_pct", "advisor_company_facing_pct")
SOURCE_FIELDS = ("kind", "name", "amount_sek", "rate_pct", "hours")
MAX_AMOUNT = Decimal("999999999999.99")  # 14 digits, 2 decimals


def _full_clean(instance, exclude=()) -> None:
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None


def _decimal(value: Any, field: str, *, places: int = 2) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValidationError({field: _("Enter a number.")}) from None
    if not number.is_finite():
        raise ValidationError({field: _("Enter a number.")})
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError({field: _("Use at most %(places)d decimals.") % {"places": places}})
    return number


# --- Scenarios -----------------------------------------------------------------------------------


def _lines_outside(scenario: BudgetScenario) -> list[BudgetLine]:
    outside = []
    for line in scenario.lines.all():
        if not rules.months_in(scenario.start_date, scenario.end_date, line.year, line.quarter):
            outside.append(line)
    return outside


def _apply_scenario_data(scenario: BudgetScenario, data: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for key, value in data.items():
        if key not in SCENARIO_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        if key in PERCENT_FIELDS or key == "in_kind_hourly_rate_sek":
            try:
                value = _decimal(value, key)
            except ValidationError as exc:
                errors.update(exc.message_dict)
                continue
            if value is None:
                errors[key] = [_("This field is required.")]
                continue
            if key in PERCENT_FIELDS and not Decimal(0) <= value <= Decimal(100):
                errors[key] = [_("A percentage from 0 to 100.")]
                continue
            if key == "in_kind_hourly_rate_sek" and value < 0:
                errors[key] = [_("The hourly rate cannot be negative.")]
                continue
        if key in ("name", "description"):
            value = (value or "").strip()
        setattr(scenario, key, value)
    if not scenario.name:
        errors["name"] = [_("Give the scenario a name.")]
    if scenario.start_date is None:
        errors["start_date"] = [_("This field is required.")]
    if scenario.end_date is None:
        errors["end_date"] = [_("This field is required.")]
    if scenario.start_date and scenario.end_date and scenario.end_date < scenario.start_date:
        errors["end_date"] = [_("The scenario cannot end before it starts.")]
    if scenario.name and scenario.project_id and (
        BudgetScenario.objects.filter(project_id=scenario.project_id, name__iexact=scenario.name)
        .exclude(pk=scenario.pk).exists()
    ):
        errors["name"] = [_("The project already has a scenario called %(name)s.") % {"name": scenario.name}]
    if errors:
        raise ValidationError(errors)
    if scenario.pk:
        outside = _lines_outside(scenario)
        if outside:
            raise ValidationError({"end_date": _(
                "%(count)d budget lines lie outside the new period (%(lines)s); move or clear them first."
            ) % {"count": len(outside), "lines": ", ".join(_line_label(line) for line in outside[:5])}})


def _line_label(line: BudgetLine) -> str:
    period = rules.quarter_label(line.year, line.quarter) if line.quarter else str(line.year)
    return f"{line.get_category_display()} {period}"


def _defaults(project: Project) -> dict[str, Any]:
    return {"start_date": project.start_date, "end_date": project.effective_end}


@transaction.atomic
def scenario_create(actor, project: Project, data: Mapping[str, Any], *, source: str = Source.WEB) -> BudgetScenario:
    """A new scenario of a project (not adopted); its period defaults to the project's."""
    scenario = BudgetScenario(project=project, created_by=actor if getattr(actor, "is_authenticated", False) else None)
    _apply_scenario_data(scenario, {**_defaults(project), **data})
    _full_clean(scenario, exclude=["created_by"])
    scenario.save()
    audit_record(actor, Action.CREATE, scenario, after=snapshot(scenario), scope=project, source=source)
    return scenario


@transaction.atomic
def scenario_update(actor, scenario: BudgetScenario, data: Mapping[str, Any], *, source: str = Source.WEB
                    ) -> BudgetScenario:
    scenario = BudgetScenario.objects.select_for_update().get(pk=scenario.pk)
    before = snapshot(scenario)
    _apply_scenario_data(scenario, data)
    _full_clean(scenario, exclude=["created_by"])
    scenario.save()
    after = snapshot(scenario)
    if after != before:
        audit_record(actor, Action.UPDATE, scenario, before=before, after=after, scope=scenario.project, source=source)
    return scenario


@transaction.atomic
def scenario_copy(actor, scenario: BudgetScenario, data: Mapping[str, Any], *, source: str = Source.WEB
                  ) -> BudgetScenario:
    """A new scenario with the settings, budget lines and financing plan of ``scenario``.

    ``data`` gives at least the new name; any other scenario field (e.g. a longer period) may change.
    """
    copy = BudgetScenario(project=scenario.project,
                          created_by=actor if getattr(actor, "is_authenticated", False) else None)
    for name in SCENARIO_FIELDS:
        setattr(copy, name, getattr(scenario, name))
    copy.name = ""
    _apply_scenario_data(copy, data)
    _full_clean(copy, exclude=["created_by"])
    copy.save()
    lines = list(scenario.lines.all())
    outside = [line for line in lines if not rules.months_in(copy.start_date, copy.end_date, line.year, line.quarter)]
    if outside:
        raise ValidationError({"end_date": _(
            "%(count)d budget lines of %(name)s lie outside the new period (%(lines)s); choose a period that covers them."
        ) % {"count": len(outside), "name": scenario.name,
             "lines": ", ".join(_line_label(line) for line in outside[:5])}})
    audit_record(actor, Action.CREATE, copy, after=snapshot(copy), scope=scenario.project, source=source,
                 message=_("Copied from %(name)s") % {"name": scenario.name})
    for line in lines:
        new = BudgetLine.objects.create(scenario=copy, partner_id=line.partner_id, category=line.category,
                                        year=line.year, quarter=line.quarter, amount_sek=line.amount_sek, note=line.note)
        audit_record(actor, Action.CREATE, new, after=snapshot(new), scope=copy, source=source)
    for item in scenario.financing.all():
        new = FinancingSource.objects.create(scenario=copy, kind=item.kind, name=item.name, amount_sek=item.amount_sek,
                                             rate_pct=item.rate_pct, hours=item.hours)
        audit_record(actor, Action.CREATE, new, after=snapshot(new), scope=copy, source=source)
    return copy


@transaction.atomic
def scenario_adopt(actor, scenario: BudgetScenario, *, source: str = Source.WEB) -> BudgetScenario:
    """Make ``scenario`` the project's budget: the one adopted scenario. Its financing plan must balance."""
    scenarios = list(BudgetScenario.objects.select_for_update().filter(project_id=scenario.project_id))
    scenario = next(s for s in scenarios if s.pk == scenario.pk)
    totals = rules.budget_totals(_budget_items(scenario), scenario.indirect_rate_pct)
    if totals.total <= 0:
        raise ValidationError(_("%(name)s has no budget yet; enter its budget lines before adopting it.")
                              % {"name": scenario.name})
    plan = rules.financing_plan(_source_items(scenario), totals.total, scenario.in_kind_hourly_rate_sek)
    if not plan.balance.balanced:
        raise ValidationError(_("%(name)s cannot be adopted. %(reason)s") % {
            "name": scenario.name, "reason": plan.balance.message()})
    if scenario.is_adopted:
        return scenario
    for other in scenarios:
        if other.is_adopted and other.pk != scenario.pk:
            other.is_adopted = False
            other.save(update_fields=["is_adopted", "updated_at"])
            audit_record(actor, Action.UPDATE, other, before={"is_adopted": True}, after={"is_adopted": False},
                         scope=other.project, source=source, message=_("Replaced by %(name)s") % {"name": scenario.name})
    scenario.is_adopted = True
    scenario.save(update_fields=["is_adopted", "updated_at"])
    audit_record(actor, Action.UPDATE, scenario, before={"is_adopted": False}, after={"is_adopted": True},
                 scope=scenario.project, source=source, message=_("Adopted as the project's budget"))
    return scenario


@transaction.atomic
def scenario_delete(actor, scenario: BudgetScenario, *, source: str = Source.WEB) -> None:
    scenario = BudgetScenario.objects.select_for_update().get(pk=scenario.pk)
    if scenario.is_adopted:
        raise ValidationError(_("The adopted budget cannot be deleted; adopt another scenario first."))
    audit_record(actor, Action.ARCHIVE, scenario, before=snapshot(scenario), scope=scenario.project, source=source,
                 message=_("Deleted with its budget lines and financing plan"))
    scenario.delete()


def _budget_items(scenario: BudgetScenario) -> list[rules.BudgetItem]:
    return [
        rules.BudgetItem(category, year, amount, quarter, partner)
        for category, year, amount, quarter, partner in scenario.lines.values_list(
            "category", "year", "amount_sek", "quarter", "partner_id")
    ]


def _source_items(scenario: BudgetScenario) -> list[rules.SourceItem]:
    return [
        rules.SourceItem(kind=s.kind, name=s.name, amount=s.amount_sek, rate_pct=s.rate_pct, hours=s.hours, id=s.pk)
        for s in scenario.financing.all()
    ]


# --- Budget lines --------------------------------------------------------------------------------


def _partner(scenario: BudgetScenario, partner: ProjectPartner | int | None) -> ProjectPartner | None:
    if partner is None or partner == "":
        return None
    pk = partner.pk if isinstance(partner, ProjectPartner) else partner
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ValidationError({"partner": _("No such partner in the project.")}) from None
    found = ProjectPartner.objects.select_related("organisation").filter(project_id=scenario.project_id, pk=pk).first()
    if found is None:
        raise ValidationError({"partner": _("No such partner in the project.")})
    return found


def _check_cell(scenario: BudgetScenario, category: str, year: Any, quarter: Any) -> tuple[int, int | None]:
    if category == CostCategory.INDIRECT:
        raise ValidationError({"category": _(
            "Indirect costs are not entered: they are %(rate)s %% of staff costs."
        ) % {"rate": number_format(scenario.indirect_rate_pct, decimal_pos=2)}})
    if category not in rules.ENTERED_CATEGORIES:
        raise ValidationError({"category": _("Choose one of: %(choices)s.") % {"choices": ", ".join(rules.ENTERED_CATEGORIES)}})
    try:
        year = int(year)
        quarter = int(quarter) if quarter not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        raise ValidationError({"year": _("A year, and optionally a quarter from 1 to 4.")}) from None
    if quarter is not None and not 1 <= quarter <= 4:
        raise ValidationError({"quarter": _("A quarter is 1, 2, 3 or 4.")})
    if not rules.months_in(scenario.start_date, scenario.end_date, year, quarter):
        period = rules.quarter_label(year, quarter) if quarter else str(year)
        raise ValidationError({"year": _("%(period)s lies outside the scenario's period (%(start)s – %(end)s).") % {
            "period": period, "start": scenario.start_date.isoformat(), "end": scenario.end_date.isoformat()}})
    return year, quarter


def _amount(value: Any) -> Decimal | None:
    amount = _decimal(value, "amount_sek")
    if amount is None:
        return None
    if amount < 0:
        raise ValidationError({"amount_sek": _("A budget amount cannot be negative.")})
    if amount > MAX_AMOUNT:
        raise ValidationError({"amount_sek": _("The amount is too large.")})
    return amount


def _existing(scenario: BudgetScenario, partner: ProjectPartner | None, category: str, year: int,
              quarter: int | None):
    return BudgetLine.objects.filter(scenario=scenario, partner=partner, category=category, year=year,
                                     quarter=quarter).first()


def _check_mix(scenario: BudgetScenario, partner: ProjectPartner | None, category: str, year: int,
               quarter: int | None) -> None:
    others = BudgetLine.objects.filter(scenario=scenario, partner=partner, category=category, year=year)
    label = dict(CostCategory.choices)[category]
    if quarter is None and others.exclude(quarter=None).exists():
        raise ValidationError({"amount_sek": _(
            "%(category)s %(year)d is budgeted per quarter; change the quarters, or clear them to budget the whole year."
        ) % {"category": label, "year": year}})
    if quarter is not None and others.filter(quarter=None).exists():
        raise ValidationError({"amount_sek": _(
            "%(category)s %(year)d is budgeted for the whole year; clear that amount to budget it per quarter."
        ) % {"category": label, "year": year}})


def _set_line(actor, scenario: BudgetScenario, *, category: str, year: Any, quarter: Any = None,
              partner: ProjectPartner | int | None = None, amount: Any, note: str | None = None,
              source: str) -> BudgetLine | None:
    partner = _partner(scenario, partner)
    year, quarter = _check_cell(scenario, category, year, quarter)
    value = _amount(amount)
    line = _existing(scenario, partner, category, year, quarter)
    if value is None:
        if line is not None:
            audit_record(actor, Action.ARCHIVE, line, before=snapshot(line), scope=scenario, source=source,
                         message=_("Budget line cleared"))
            line.delete()
        return None
    if line is None:
        _check_mix(scenario, partner, category, year, quarter)
        line = BudgetLine(scenario=scenario, partner=partner, category=category, year=year, quarter=quarter,
                          amount_sek=value, note=(note or "").strip()[:255])
        line.save()
        audit_record(actor, Action.CREATE, line, after=snapshot(line), scope=scenario, source=source)
        return line
    before = snapshot(line)
    line.amount_sek = value
    if note is not None:
        line.note = note.strip()[:255]
    after = snapshot(line)
    if after != before:
        line.save()
        audit_record(actor, Action.UPDATE, line, before=before, after=after, scope=scenario, source=source)
    return line


@transaction.atomic
def budget_line_set(actor, scenario: BudgetScenario, *, category: str, year: Any, quarter: Any = None,
                    partner: ProjectPartner | int | None = None, amount: Any, note: str | None = None,
                    source: str = Source.WEB) -> BudgetLine | None:
    """Set one cell of the budget: create, change or (amount ``None``/empty) remove the line."""
    return _set_line(actor, scenario, category=category, year=year, quarter=quarter, partner=partner, amount=amount,
                     note=note, source=source)


@transaction.atomic
def budget_lines_set(actor, scenario: BudgetScenario, cells: Iterable[Mapping[str, Any]], *,
                     source: str = Source.WEB) -> int:
    """Set many cells at once (the budget grid without JavaScript): all or nothing.

    Each cell is a mapping with ``key`` (how errors are reported, e.g. the form field), ``category``,
    ``year``, ``quarter``, ``partner`` and ``amount``. Returns how many cells were set; raises a
    ``ValidationError`` keyed by cell when any cell is refused (nothing is saved then).
    """
    errors: dict[str, list[str]] = {}
    count = 0
    for cell in cells:
        key = str(cell.get("key") or f"{cell.get('category')}-{cell.get('year')}-{cell.get('quarter') or 0}")
        try:
            with transaction.atomic():
                _set_line(actor, scenario, category=cell.get("category", ""), year=cell.get("year"),
                          quarter=cell.get("quarter"), partner=cell.get("partner"), amount=cell.get("amount"),
                          note=cell.get("note"), source=source)
        except ValidationError as exc:
            errors[key] = _messages(exc)
        else:
            count += 1
    if errors:
        raise ValidationError(errors)
    return count


@transaction.atomic
def budget_lines_replace(actor, scenario: BudgetScenario, lines: Iterable[Mapping[str, Any]], *,
                         source: str = Source.API) -> list[BudgetLine]:
    """Make the scenario's budget exactly ``lines`` (category, year, quarter, partner, amount, note).

    Lines not given are removed; two lines for the same cell, or a year given both whole and per
    quarter, are refused. All or nothing; errors are keyed ``line 1``, ``line 2``, ….
    """
    scenario = BudgetScenario.objects.select_for_update().get(pk=scenario.pk)
    wanted: dict[tuple, dict[str, Any]] = {}
    errors: dict[str, list[str]] = {}
    for number, line in enumerate(lines, start=1):
        key = f"line {number}"
        try:
            partner = _partner(scenario, line.get("partner"))
            category = line.get("category", "")
            year, quarter = _check_cell(scenario, category, line.get("year"), line.get("quarter"))
            amount = _amount(line.get("amount"))
            if amount is None:
                raise ValidationError({"amount_sek": _("This field is required.")})
        except ValidationError as exc:
            errors[key] = _messages(exc)
            continue
        cell = (partner.pk if partner else None, category, year, quarter)
        if cell in wanted:
            errors[key] = [_("The same cell as %(other)s.") % {"other": wanted[cell]["key"]}]
            continue
        wanted[cell] = {"key": key, "partner": partner, "amount": amount, "note": line.get("note")}
    whole = {(p, c, y) for (p, c, y, q) in wanted if q is None}
    for (p, c, y, q), item in wanted.items():
        if q is not None and (p, c, y) in whole:
            errors.setdefault(item["key"], []).append(_(
                "%(category)s %(year)d is given both for the whole year and per quarter."
            ) % {"category": dict(CostCategory.choices)[c], "year": y})
    if errors:
        raise ValidationError(errors)
    for line in list(scenario.lines.all()):
        if (line.partner_id, line.category, line.year, line.quarter) not in wanted:
            audit_record(actor, Action.ARCHIVE, line, before=snapshot(line), scope=scenario, source=source,
                         message=_("Budget line cleared"))
            line.delete()
    # Whole years before quarters is not needed: the mix was checked above and clashing lines are gone.
    result = []
    for (_p, category, year, quarter), item in wanted.items():
        result.append(_set_line(actor, scenario, category=category, year=year, quarter=quarter, partner=item["partner"],
                                amount=item["amount"], note=item["note"], source=source))
    return result


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [message for messages in exc.message_dict.values() for message in messages]
    return list(exc.messages)


# --- Financing plan ------------------------------------------------------------------------------


def _apply_source_data(item: FinancingSource, data: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for key, value in data.items():
        if key not in SOURCE_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        if key in ("amount_sek", "rate_pct", "hours"):
            try:
                value = _decimal(value, key, places=1 if key == "hours" else 2)
            except ValidationError as exc:
                errors.update(exc.message_dict)
                continue
        if key == "name":
            value = (value or "").strip()
        setattr(item, key, value)
    if errors:
        raise ValidationError(errors)
    if item.kind not in FinancingSource.Kind.values:
        raise ValidationError({"kind": _("Choose one of: %(choices)s.") % {"choices": ", ".join(FinancingSource.Kind.values)}})
    given = [name for name in ("amount_sek", "rate_pct", "hours") if getattr(item, name) is not None]
    if len(given) != 1:
        raise ValidationError({"amount_sek": _(
            "Give exactly one of: an amount, a rate of the eligible budget, or hours in kind."
        )})
    in_kind = item.kind == FinancingSource.Kind.PRIVATE_IN_KIND
    if item.hours is not None and not in_kind:
        raise ValidationError({"hours": _("Hours are for private contributions in kind (company staff hours).")})
    if item.rate_pct is not None and in_kind:
        raise ValidationError({"rate_pct": _("A contribution in kind is given as hours or as an amount, not as a rate.")})
    if item.amount_sek is not None and not Decimal(0) <= item.amount_sek <= MAX_AMOUNT:
        raise ValidationError({"amount_sek": _("An amount from 0 upwards.")})
    if item.rate_pct is not None and not Decimal(0) <= item.rate_pct <= Decimal(100):
        raise ValidationError({"rate_pct": _("A percentage from 0 to 100.")})
    if item.hours is not None and not Decimal(0) < item.hours < Decimal("1000000000"):
        raise ValidationError({"hours": _("A positive number of hours.")})


@transaction.atomic
def financing_source_create(actor, scenario: BudgetScenario, data: Mapping[str, Any], *,
                            source: str = Source.WEB) -> FinancingSource:
    item = FinancingSource(scenario=scenario, name="")
    _apply_source_data(item, {"kind": data.get("kind", ""), **data})
    _full_clean(item)
    item.save()
    audit_record(actor, Action.CREATE, item, after=snapshot(item), scope=scenario, source=source)
    return item


@transaction.atomic
def financing_source_update(actor, item: FinancingSource, data: Mapping[str, Any], *,
                            source: str = Source.WEB) -> FinancingSource:
    before = snapshot(item)
    _apply_source_data(item, data)
    _full_clean(item)
    after = snapshot(item)
    if after != before:
        item.save()
        audit_record(actor, Action.UPDATE, item, before=before, after=after, scope=item.scenario, source=source)
    return item


@transaction.atomic
def financing_source_delete(actor, item: FinancingSource, *, source: str = Source.WEB) -> None:
    audit_record(actor, Action.ARCHIVE, item, before=snapshot(item), scope=item.scenario, source=source,
                 message=_("Removed from the financing plan"))
    item.delete()


@transaction.atomic
def financing_replace(actor, scenario: BudgetScenario, sources: Iterable[Mapping[str, Any]], *,
                      source: str = Source.API) -> list[FinancingSource]:
    """Make the financing plan exactly ``sources``: all or nothing, errors keyed ``source 1``, …."""
    scenario = BudgetScenario.objects.select_for_update().get(pk=scenario.pk)
    items: list[FinancingSource] = []
    errors: dict[str, list[str]] = {}
    for number, data in enumerate(sources, start=1):
        item = FinancingSource(scenario=scenario, name="")
        try:
            _apply_source_data(item, {"kind": data.get("kind", ""), **{k: v for k, v in data.items() if k != "id"}})
        except ValidationError as exc:
            errors[f"source {number}"] = _messages(exc)
            continue
        items.append(item)
    if errors:
        raise ValidationError(errors)
    for old in list(scenario.financing.all()):
        audit_record(actor, Action.ARCHIVE, old, before=snapshot(old), scope=scenario, source=source,
                     message=_("Removed from the financing plan"))
        old.delete()
    for item in items:
        item.save()
        audit_record(actor, Action.CREATE, item, after=snapshot(item), scope=scenario, source=source)
    return items
