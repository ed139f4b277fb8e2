"""De minimis check for company-specific interventions: the programmes' view of the ledger check.

Every approval of a state-aid intervention asks `check_deminimis` (the approval page shows it);
offers that require de minimis headroom ask `deminimis_headroom_sek`. Neither computes anything of
its own: both are :func:`sim.stateaid.selectors.ledger_check`, the check that approval itself runs
when it writes the granted award (:func:`sim.stateaid.services.grant_for_intervention`), with the
pure rules in :mod:`sim.stateaid.rules`. So the page shows exactly what approval will decide:

* the **regulation** by the date of granting (2023/2831 from 2024-01-01: EUR 300,000 over a
  rolling three years; earlier 1407/2013: EUR 200,000, EUR 100,000 in road freight, over the
  current and two previous fiscal years of the undertaking, from its ``UndertakingProfile``);
* the **single undertaking** over control links (``controls`` or more than 50 % of the votes,
  either direction, any depth) and mergers (a company merged into a member brings its aid along),
  with the members listed;
* counted: the granted awards of the ledger not revoked, declared aid included, in EUR as
  converted when granted; the new aid in EUR at the latest rate on or before its date, to the
  cent (half up) as the ledger records it; no usable rate ⇒ nothing can be approved.

The remaining helpers (`single_undertaking`, `granted_aid`, `window_after`, `deminimis_decision`,
`sek_per_eur`, `CENT`) are the parts `sim.programmes.recommendations` uses to work out the headroom
of many companies with a few queries; they too are the ledger's selectors and rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sim.stateaid import rules, selectors

CEILING_EUR = rules.CEILING_2023_EUR  # the ceiling of Regulation (EU) 2023/2831
WINDOW_YEARS = rules.ROLLING_YEARS
CENT = rules.CENT


@dataclass(frozen=True)
class GrantedAid:
    """One award counted against the ceiling."""

    company_id: int
    granted_on: dt.date
    amount_sek: Decimal
    amount_eur: Decimal
    source: str  # "award:<ledger id>"


@dataclass(frozen=True)
class AidCheck:
    allowed: bool
    ceiling_eur: Decimal
    used_eur: Decimal  # already granted to the single undertaking in the window
    proposed_eur: Decimal
    headroom_eur: Decimal  # ceiling − used (before the proposed aid), never negative
    members: tuple[int, ...]  # company ids of the single undertaking (sorted)
    message: str  # every figure, the window, the decision, the regulation and the members by name
    awards: tuple[GrantedAid, ...] = ()
    window_after: dt.date | None = None  # awards granted after this date count ...
    window_to: dt.date | None = None  # ... up to and including this one
    regulation: str = ""  # "2023/2831" or "1407/2013"
    member_names: tuple[str, ...] = ()  # "Name (org number)" of each member, by name
    explanation: tuple[str, ...] = ()  # the check in sentences (regulation, window, awards, decision)


# --- Rules (those of the ledger) ------------------------------------------------------------


def window_after(on_date: dt.date) -> dt.date:
    """Regulation 2023/2831: awards granted *after* this date (the same calendar date three years
    earlier; 29 February maps to 28 February) and up to `on_date` count."""
    return rules.rolling_window_after(on_date)


def in_window(granted_on: dt.date, on_date: dt.date) -> bool:
    """Whether an award granted on `granted_on` counts for new aid granted on `on_date` under 2023/2831."""
    return granted_on in rules.window_for(rules.REGULATION_2023, on_date)


def eur(amount: Decimal) -> Decimal:
    return rules.cents(amount)


def deminimis_decision(used_eur: Decimal, proposed_eur: Decimal, ceiling_eur: Decimal = CEILING_EUR) -> tuple[bool, Decimal]:
    """(allowed, headroom before the proposal). No part is allowed when the total would exceed the ceiling."""
    return rules.decide(used_eur, proposed_eur, ceiling_eur)


# --- Data (the ledger's) --------------------------------------------------------------------


def sek_per_eur(on_date: dt.date) -> Decimal | None:
    """The SEK/EUR rate for an award granted on `on_date`: the latest on or before it in the
    exchange-rate table of the ledger. None when no rate is known."""
    rate = selectors.rate_on_or_before(on_date)
    return None if rate is None else rate.sek_per_eur


def sek_to_eur(amount_sek: Decimal, on_date: dt.date) -> Decimal | None:
    """SEK → EUR as the ledger records a new award: the amount to the cent, then converted to the cent."""
    rate = sek_per_eur(on_date)
    return None if rate is None else rules.sek_to_eur(rules.cents(amount_sek), rate)


def single_undertaking(company) -> tuple[int, ...]:
    """Company ids of the single undertaking `company` belongs to (itself included), sorted: control
    links and mergers, as :func:`sim.stateaid.selectors.single_undertaking`."""
    return selectors.single_undertaking(company)


def granted_aid(member_ids: Iterable[int], after: dt.date, up_to: dt.date) -> list[GrantedAid] | None:
    """The counted awards (after `after`, up to and including `up_to`) of these companies, for
    whole single undertakings under Regulation 2023/2831.

    An award to a company merged into another is the aid of the company that took it over: it is
    returned with that company's id (``company_id``) when that company is among `member_ids`.
    ``None`` when the sum per single undertaking would not be the ledger's check: for a date before
    2024 (Regulation 1407/2013 counts per fiscal year of each undertaking, with its own ceiling) or
    when a merged-away company still has control links — then ask :func:`deminimis_headroom_sek`
    company by company.
    """
    if rules.regulation_for(up_to) != rules.REGULATION_2023:
        return None
    found = selectors.counted_awards_by_root(member_ids, after + dt.timedelta(days=1), up_to)
    if found is None:
        return None
    return [GrantedAid(root, a.granted_on, a.amount_sek, a.amount_eur, f"award:{a.pk}") for root, a in found]


# --- The check ------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return number_format(value, decimal_pos=2, force_grouping=True)


def describe(check: AidCheck) -> str:
    """The check in one paragraph: used, ceiling, window, the decision, the regulation and the members."""
    values = {
        "used": _money(check.used_eur), "ceiling": _money(check.ceiling_eur), "proposed": _money(check.proposed_eur),
        "headroom": _money(check.headroom_eur), "members": len(check.members),
        "after": check.window_after.isoformat() if check.window_after else "",
        "to": check.window_to.isoformat() if check.window_to else "",
        "over": _money(check.used_eur + check.proposed_eur - check.ceiling_eur),
        "left": _money(check.headroom_eur - check.proposed_eur),
        "regulation": check.regulation, "names": "; ".join(check.member_names),
    }
    used = ngettext(
        "De minimis aid granted to the single undertaking (%(members)s company) after %(after)s up to "
        "%(to)s: EUR %(used)s of EUR %(ceiling)s.",
        "De minimis aid granted to the single undertaking (%(members)s companies) after %(after)s up to "
        "%(to)s: EUR %(used)s of EUR %(ceiling)s.",
        len(check.members),
    ) % values
    if check.allowed:
        decision = _("This aid of EUR %(proposed)s fits; EUR %(left)s remains.") % values
    else:
        decision = _(
            "This aid of EUR %(proposed)s would exceed the ceiling by EUR %(over)s (headroom EUR %(headroom)s), "
            "so no part of it may be granted as de minimis aid."
        ) % values
    context = _("Regulation %(regulation)s; single undertaking: %(names)s.") % values
    return f"{used} {decision} {context}"



def _from_ledger(ledger: selectors.LedgerCheck) -> AidCheck:
    result = ledger.result
    check = AidCheck(
        allowed=result.allowed, ceiling_eur=result.ceiling_eur, used_eur=result.used_eur,
        proposed_eur=result.proposed_eur, headroom_eur=result.headroom_eur, members=tuple(result.members),
        message="",
        awards=tuple(GrantedAid(a.undertaking_id, a.granted_on, a.amount_sek, a.amount_eur, f"award:{a.pk}")
                     for a in ledger.awards),
        window_after=result.window.after, window_to=result.window.end, regulation=result.regulation,
        member_names=tuple(ledger.member_labels), explanation=tuple(ledger.explanation),
    )
    return replace(check, message=describe(check))


def _refused(company, on_date: dt.date, message: str) -> AidCheck:
    """Nothing may be granted and nothing can be counted (no rate, a negative amount)."""
    regulation = rules.regulation_for(on_date)
    road_freight, fiscal_year_start = selectors.profile_of(company)
    window = rules.window_for(regulation, on_date, fiscal_year_start)
    members = single_undertaking(company)
    return AidCheck(
        allowed=False, ceiling_eur=rules.ceiling_for(regulation, road_freight=road_freight), used_eur=Decimal(0),
        proposed_eur=Decimal(0), headroom_eur=Decimal(0), members=members, message=message, window_after=window.after,
        window_to=window.end, regulation=regulation,
        member_names=tuple(selectors.member_labels(selectors.members_of(members))),
    )


def check_deminimis(company, amount_sek: Decimal, on_date: dt.date, *, exclude_intervention: int | None = None) -> AidCheck:
    """May `amount_sek` of de minimis aid be granted to `company` on `on_date`? The ledger's check.

    `exclude_intervention` leaves one intervention's award out of the counted aid (when re-checking
    an award that is already counted). Without a usable exchange rate nothing is allowed.
    """
    rate = selectors.rate_on_or_before(on_date)
    if rate is None:
        return _refused(company, on_date, _("No usable SEK/EUR exchange rate is known, so de minimis aid cannot be checked."))
    amount_sek = Decimal(amount_sek)
    if not amount_sek.is_finite() or amount_sek < 0:
        return _refused(company, on_date, _("The aid amount must be 0 or more."))
    amount = rules.cents(amount_sek)
    ledger = selectors.ledger_check(company, on_date, rules.sek_to_eur(amount, rate.sek_per_eur), proposed_sek=amount,
                                    rate=rate, exclude_intervention=exclude_intervention)
    return _from_ledger(ledger)


def deminimis_headroom_sek(company, on_date: dt.date) -> Decimal | None:
    """How much de minimis aid (SEK) the company's single undertaking may still receive on `on_date`:
    the ledger's headroom (EUR) at the date's rate. None when no usable rate is known."""
    rate = sek_per_eur(on_date)
    if rate is None:
        return None
    headroom_eur = selectors.ledger_check(company, on_date, Decimal(0)).result.headroom_eur
    return (headroom_eur * rate).quantize(CENT, rounding=ROUND_HALF_UP)
