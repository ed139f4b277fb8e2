"""De minimis check for company-specific interventions (Regulation (EU) 2023/2831).

Every approval of a state-aid intervention asks `check_deminimis`; offers that require de minimis
headroom ask `deminimis_headroom_sek`. Nothing else in the code computes de minimis aid.

The rule (see docs/domain-rules.md, "De minimis check"):

* The **single undertaking** is every company connected to this one through control links —
  an ownership link with ``controls`` set or more than 50 % of the votes — in either direction and
  at any depth (parent, subsidiaries, sister companies).
* Counted aid: the granted awards in the ledger of any member (an approved state-aid
  intervention is one) whose date of granting lies in the rolling three years before the new award: **after** the same
  calendar date three years earlier, **up to and including** the date of the new award.
* Amounts are converted to EUR at the latest rate on or before the date of granting.
* Ceiling EUR 300,000. If the new aid would take the total over the ceiling, **no part** of it may
  be granted (allowed is False); reaching the ceiling exactly is allowed.

Data sources (the de minimis ledger of ``sim.stateaid``, issue 5):

* `granted_aid` reads the awards: granted ledger entries not revoked, including aid the company
  declared from other granting authorities, in EUR as converted when granted.
* `sek_per_eur` gives the rate for a date from the exchange-rate table (the latest on or before
  the date); None when no rate is known — then nothing can be approved.

Approving an intervention writes its granted award to the ledger
(``sim.stateaid.services.grant_for_intervention``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

CEILING_EUR = Decimal("300000")
WINDOW_YEARS = 3
CENT = Decimal("0.01")


@dataclass(frozen=True)
class GrantedAid:
    """One award counted against the ceiling."""

    company_id: int
    granted_on: dt.date
    amount_sek: Decimal
    amount_eur: Decimal
    source: str  # e.g. "intervention:12"


@dataclass(frozen=True)
class AidCheck:
    allowed: bool
    ceiling_eur: Decimal
    used_eur: Decimal  # already granted to the single undertaking in the window
    proposed_eur: Decimal
    headroom_eur: Decimal  # ceiling − used (before the proposed aid), never negative
    members: tuple[int, ...]  # company ids of the single undertaking (sorted)
    message: str
    awards: tuple[GrantedAid, ...] = ()
    window_after: dt.date | None = None
    window_to: dt.date | None = None


# --- Pure rules -----------------------------------------------------------------------------


def window_after(on_date: dt.date) -> dt.date:
    """The same calendar date three years earlier: awards granted *after* it count.

    29 February maps to 28 February of a year without it (so 1 March is the first counted day).
    """
    year = on_date.year - WINDOW_YEARS
    try:
        return on_date.replace(year=year)
    except ValueError:  # 29 February
        return dt.date(year, 2, 28)


def in_window(granted_on: dt.date, on_date: dt.date) -> bool:
    return window_after(on_date) < granted_on <= on_date


def eur(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def deminimis_decision(used_eur: Decimal, proposed_eur: Decimal, ceiling_eur: Decimal = CEILING_EUR) -> tuple[bool, Decimal]:
    """(allowed, headroom before the proposal). No part is allowed when the total would exceed the ceiling."""
    headroom = max(ceiling_eur - used_eur, Decimal(0))
    return used_eur + proposed_eur <= ceiling_eur, headroom


def _money(value: Decimal) -> str:
    return number_format(value, decimal_pos=2, force_grouping=True)


def describe(check: AidCheck) -> str:
    values = {
        "used": _money(check.used_eur), "ceiling": _money(check.ceiling_eur), "proposed": _money(check.proposed_eur),
        "headroom": _money(check.headroom_eur), "members": len(check.members),
        "after": check.window_after.isoformat() if check.window_after else "",
        "to": check.window_to.isoformat() if check.window_to else "",
        "over": _money(check.used_eur + check.proposed_eur - check.ceiling_eur),
        "left": _money(check.headroom_eur - check.proposed_eur),
    }
    used = ngettext(
        "De minimis aid granted to the single undertaking (%(members)s company) after %(after)s up to "
        "%(to)s: EUR %(used)s of EUR %(ceiling)s.",
        "De minimis aid granted to the single undertaking (%(members)s companies) after %(after)s up to "
        "%(to)s: EUR %(used)s of EUR %(ceiling)s.",
        len(check.members),
    ) % values
    if check.allowed:
        return used + " " + _("This aid of EUR %(proposed)s fits; EUR %(left)s remains.") % values
    return used + " " + _(
        "This aid of EUR %(proposed)s would exceed the ceiling by EUR %(over)s (headroom EUR %(headroom)s), "
        "so no part of it may be granted as de minimis aid."
    ) % values


# --- Data sources (issue 5 replaces these) --------------------------------------------------


def sek_per_eur(on_date: dt.date) -> Decimal | None:
    """The SEK/EUR rate for an award granted on `on_date`: the latest rate on or before it in the
    exchange-rate table of the de minimis ledger (``sim.stateaid``). None when no rate is known."""
    from sim.stateaid.selectors import rate_on_or_before

    rate = rate_on_or_before(on_date)
    return None if rate is None else rate.sek_per_eur


def sek_to_eur(amount_sek: Decimal, on_date: dt.date) -> Decimal | None:
    rate = sek_per_eur(on_date)
    return None if rate is None else eur(Decimal(amount_sek) / rate)


def granted_aid(member_ids: Iterable[int], after: dt.date, up_to: dt.date, *, exclude_intervention: int | None = None) -> list[GrantedAid] | None:
    """De minimis awards to these companies granted after `after` up to and including `up_to`.

    From the de minimis ledger (``sim.stateaid``): granted awards not revoked, including aid the
    companies declared from other granting authorities, in EUR at the rate used when each was
    granted. `exclude_intervention` leaves out the award of that intervention.
    """
    from sim.stateaid.models import AidAward

    rows = AidAward.objects.counted().filter(
        undertaking_id__in=list(member_ids), granted_on__gt=after, granted_on__lte=up_to,
    )
    if exclude_intervention is not None:
        rows = rows.exclude(intervention_id=exclude_intervention)
    return [
        GrantedAid(company_id, granted_on, amount_sek, amount_eur, f"award:{pk}")
        for pk, company_id, granted_on, amount_sek, amount_eur in rows.order_by("granted_on", "pk").values_list(
            "pk", "undertaking_id", "granted_on", "amount_sek", "amount_eur")
    ]


def single_undertaking(company) -> tuple[int, ...]:
    """Company ids of the single undertaking `company` belongs to (itself included), sorted.

    A walk over control links only (``controls`` or votes > 50 %), both directions, any depth: the
    same links `sim.companies.selectors.ownership_component` follows, restricted to control.
    """
    from sim.companies.models import OwnershipLink

    control = Q(controls=True) | Q(voting_pct__gt=50)
    members = {company.pk}
    frontier = {company.pk}
    while frontier:
        links = OwnershipLink.objects.filter(control).filter(Q(holder_id__in=frontier) | Q(held_id__in=frontier))
        frontier = set()
        for holder, held in links.values_list("holder_id", "held_id"):
            for other in (holder, held):
                if other not in members:
                    members.add(other)
                    frontier.add(other)
    return tuple(sorted(members))


# --- The service functions ------------------------------------------------------------------


def _check(company, amount_sek: Decimal, on_date: dt.date, exclude_intervention: int | None) -> AidCheck | None:
    members = single_undertaking(company)
    after = window_after(on_date)
    awards = granted_aid(members, after, on_date, exclude_intervention=exclude_intervention)
    proposed_eur = sek_to_eur(Decimal(amount_sek), on_date)
    if awards is None or proposed_eur is None:
        return None
    used = sum((award.amount_eur for award in awards), Decimal(0))
    allowed, headroom = deminimis_decision(used, proposed_eur)
    check = AidCheck(
        allowed=allowed, ceiling_eur=CEILING_EUR, used_eur=used, proposed_eur=proposed_eur, headroom_eur=headroom,
        members=members, message="", awards=tuple(awards), window_after=after, window_to=on_date,
    )
    return replace(check, message=describe(check))


def check_deminimis(company, amount_sek: Decimal, on_date: dt.date, *, exclude_intervention: int | None = None) -> AidCheck:
    """May `amount_sek` of de minimis aid be granted to `company` on `on_date`?

    `exclude_intervention` leaves one intervention out of the counted aid (when re-checking an
    award that is already counted). Without a usable exchange rate nothing is allowed.
    """
    check = _check(company, amount_sek, on_date, exclude_intervention)
    if check is None:
        return AidCheck(
            allowed=False, ceiling_eur=CEILING_EUR, used_eur=Decimal(0), proposed_eur=Decimal(0),
            headroom_eur=Decimal(0), members=single_undertaking(company), window_after=window_after(on_date),
            window_to=on_date,
            message=_("No usable SEK/EUR exchange rate is known, so de minimis aid cannot be checked."),
        )
    return check


def deminimis_headroom_sek(company, on_date: dt.date) -> Decimal | None:
    """How much de minimis aid (SEK) the company's single undertaking may still receive on `on_date`.

    None when it cannot be determined (no usable exchange rate).
    """
    rate = sek_per_eur(on_date)
    check = _check(company, Decimal(0), on_date, None)
    if rate is None or check is None:
        return None
    return (check.headroom_eur * rate).quantize(CENT, rounding=ROUND_HALF_UP)
