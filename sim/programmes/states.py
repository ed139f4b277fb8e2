"""The state machines of referrals and company-specific interventions, as data.

Pure: no database. Services ask `referral_move_allowed` / `intervention_move_allowed` before any
status change, and views and the API show only the moves these tables allow.

Referral (slussa in)::

    proposed ──► accepted ──► started ──► completed
        │            │           │
        ├─► declined ◄┘           │       (declined: the company or the provider said no)
        └─► withdrawn ◄───────────┘       (withdrawn: we or the company stopped it)

Intervention (företagsspecifik insats)::

    draft ──► approved ──► in_progress ──► delivered ──► closed
      │           │             │
      └───────────┴─────────────┴──► cancelled

Declining, withdrawing and cancelling need a reason. Approving an intervention is a move of its
own (`programmes.approve_intervention`, de minimis and budget checks in the services).
"""

from __future__ import annotations

from types import MappingProxyType

from .models import InterventionStatus, ReferralStatus

R = ReferralStatus
I = InterventionStatus  # noqa: E741 - short alias for the table below

REFERRAL_TRANSITIONS: MappingProxyType[str, frozenset[str]] = MappingProxyType({
    R.PROPOSED: frozenset({R.ACCEPTED, R.DECLINED, R.WITHDRAWN}),
    R.ACCEPTED: frozenset({R.STARTED, R.DECLINED, R.WITHDRAWN}),
    R.STARTED: frozenset({R.COMPLETED, R.WITHDRAWN}),
    R.COMPLETED: frozenset(),
    R.DECLINED: frozenset(),
    R.WITHDRAWN: frozenset(),
})

#: The statuses a referral is "open" in: it may still move, and a second one to the same offer is refused.
REFERRAL_OPEN = frozenset({R.PROPOSED, R.ACCEPTED, R.STARTED})
#: Moves into these statuses need a reason.
REFERRAL_NEEDS_REASON = frozenset({R.DECLINED, R.WITHDRAWN})
#: The date field each status records its date in.
REFERRAL_DATE_FIELD = MappingProxyType({
    R.PROPOSED: "proposed_on",
    R.ACCEPTED: "accepted_on",
    R.STARTED: "started_on",
    R.COMPLETED: "completed_on",
    R.DECLINED: "declined_on",
    R.WITHDRAWN: "withdrawn_on",
})
#: The order of the pipeline board's columns.
REFERRAL_COLUMNS = (R.PROPOSED, R.ACCEPTED, R.STARTED, R.COMPLETED, R.DECLINED, R.WITHDRAWN)

INTERVENTION_TRANSITIONS: MappingProxyType[str, frozenset[str]] = MappingProxyType({
    I.DRAFT: frozenset({I.APPROVED, I.CANCELLED}),
    I.APPROVED: frozenset({I.IN_PROGRESS, I.CANCELLED}),
    I.IN_PROGRESS: frozenset({I.DELIVERED, I.CANCELLED}),
    I.DELIVERED: frozenset({I.CLOSED}),
    I.CLOSED: frozenset(),
    I.CANCELLED: frozenset(),
})

INTERVENTION_NEEDS_REASON = frozenset({I.CANCELLED})
#: Interventions in these statuses bind the budget and count as granted aid.
INTERVENTION_COMMITTED = frozenset({I.APPROVED, I.IN_PROGRESS, I.DELIVERED, I.CLOSED})
INTERVENTION_DATE_FIELD = MappingProxyType({
    I.APPROVED: "approved_on",
    I.IN_PROGRESS: "started_on",
    I.DELIVERED: "delivered_on",
    I.CLOSED: "closed_on",
    I.CANCELLED: "cancelled_on",
})
#: Fields fixed by the approval decision: changing them needs a new decision (cancel and redo).
INTERVENTION_DECIDED_FIELDS = frozenset({"company", "project", "budget_sek", "aid_amount_sek", "is_state_aid", "support_form"})


def referral_move_allowed(current: str, target: str) -> bool:
    return target in REFERRAL_TRANSITIONS.get(current, frozenset())


def referral_next_statuses(current: str) -> list[str]:
    """The allowed moves from `current`, in board order."""
    allowed = REFERRAL_TRANSITIONS.get(current, frozenset())
    return [status for status in REFERRAL_COLUMNS if status in allowed]


def intervention_move_allowed(current: str, target: str) -> bool:
    return target in INTERVENTION_TRANSITIONS.get(current, frozenset())


def intervention_next_statuses(current: str) -> list[str]:
    allowed = INTERVENTION_TRANSITIONS.get(current, frozenset())
    return [status for status in InterventionStatus.values if status in allowed]
