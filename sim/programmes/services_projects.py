"""Writes of projects, their partners and members: validate, save and audit in one transaction.

Reads live in :mod:`sim.programmes.projects` (which projects a user works in) and in the views'
selectors below (:func:`project_counts`, :func:`member_candidates`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from sim.core.audit import audit_record, snapshot
from sim.core.models import AuditEvent
from sim.core.roles import Role

from .models import Organisation, Project, ProjectMembership, ProjectPartner

Source = AuditEvent.Source
Action = AuditEvent.Action

PROJECT_FIELDS = (
    "code", "name", "description", "start_date", "end_date", "extended_to", "owner", "status",
    "company_support_budget_sek", "min_support_hours",
)
PROJECT_M2M = ("counties", "municipalities", "focus_areas")
ORGANISATION_FIELDS = ("name", "kind", "org_number", "website", "email", "phone")
# Roles whose staff work in projects (company representatives and education providers do not).
STAFF_ROLES = (Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR)


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _project_snapshot(project: Project) -> dict[str, Any]:
    data = snapshot(project)
    for name in PROJECT_M2M:
        data[name] = sorted(str(pk) for pk in getattr(project, name).values_list("pk", flat=True))
    return data


def _full_clean(instance, exclude=()) -> None:
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None


def _check_period(project: Project) -> None:
    errors = {}
    if project.start_date and project.end_date and project.end_date < project.start_date:
        errors["end_date"] = _("The project cannot end before it starts.")
    if project.extended_to and project.end_date and project.extended_to < project.end_date:
        errors["extended_to"] = _("An extension must end after the original end date.")
    if errors:
        raise ValidationError(errors)


def _apply_project_data(project: Project, data: dict[str, Any]) -> dict[str, Any]:
    m2m = {}
    for key, value in data.items():
        if key in PROJECT_M2M:
            m2m[key] = list(value or [])
        elif key in PROJECT_FIELDS:
            setattr(project, key, value)
        else:
            raise ValidationError({key: _("Unknown field.")})
    if project.description is None:
        project.description = ""
    _check_period(project)
    municipalities = m2m.get("municipalities")
    counties = m2m.get("counties")
    if municipalities and counties is not None:
        county_codes = {c.pk if hasattr(c, "pk") else c for c in counties}
        outside = [m for m in municipalities if getattr(m, "county_id", None) not in county_codes]
        if outside:
            raise ValidationError({"municipalities": _(
                "%(names)s lie outside the counties served; add their county or remove them."
            ) % {"names": ", ".join(str(m) for m in outside)}})
    return m2m


def _sync_owner_partner(project: Project) -> None:
    """The owner organisation is a partner with the owner role; a former owner stays as a partner."""
    project.partners.filter(role=ProjectPartner.Role.OWNER).exclude(organisation=project.owner).update(
        role=ProjectPartner.Role.PARTNER
    )
    partner, created = ProjectPartner.objects.get_or_create(
        project=project, organisation=project.owner, defaults={"role": ProjectPartner.Role.OWNER}
    )
    if not created and partner.role != ProjectPartner.Role.OWNER:
        partner.role = ProjectPartner.Role.OWNER
        partner.save(update_fields=["role"])


@transaction.atomic
def project_create(actor, data: dict[str, Any], *, source: str = Source.WEB, join: bool = True) -> Project:
    """Create a project; its owner becomes a partner and (unless ``join`` is off) the creator a member."""
    project = Project()
    m2m = _apply_project_data(project, data)
    _full_clean(project)
    project.save()
    for name, values in m2m.items():
        getattr(project, name).set(values)
    _sync_owner_partner(project)
    audit_record(actor, Action.CREATE, project, after=_project_snapshot(project), source=source)
    user = _actor(actor)
    if join and user is not None:
        membership = ProjectMembership.objects.create(project=project, user=user, organisation=project.owner)
        audit_record(actor, Action.CREATE, membership, after=snapshot(membership), scope=project, source=source)
    return project


@transaction.atomic
def project_update(actor, project: Project, data: dict[str, Any], *, source: str = Source.WEB) -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    before = _project_snapshot(project)
    m2m = _apply_project_data(project, data)
    _full_clean(project)
    project.save()
    for name, values in m2m.items():
        getattr(project, name).set(values)
    _sync_owner_partner(project)
    after = _project_snapshot(project)
    if after != before:
        audit_record(actor, Action.UPDATE, project, before=before, after=after, source=source)
    return project


@transaction.atomic
def organisation_create(actor, data: dict[str, Any], *, source: str = Source.WEB) -> Organisation:
    organisation = Organisation()
    for key, value in data.items():
        if key not in ORGANISATION_FIELDS:
            raise ValidationError({key: _("Unknown field.")})
        setattr(organisation, key, value if value is not None else "")
    organisation.name = " ".join((organisation.name or "").split())
    if Organisation.objects.filter(name__iexact=organisation.name).exists():
        raise ValidationError({"name": _("An organisation with this name already exists; choose it from the list.")})
    _full_clean(organisation)
    organisation.save()
    audit_record(actor, Action.CREATE, organisation, after=snapshot(organisation), source=source)
    return organisation


@transaction.atomic
def project_partner_add(
    actor, project: Project, organisation: Organisation, *, source: str = Source.WEB
) -> ProjectPartner:
    if project.partners.filter(organisation=organisation).exists():
        raise ValidationError({"organisation": _("%(name)s is already a partner in this project.") % {
            "name": organisation.name}})
    partner = ProjectPartner.objects.create(project=project, organisation=organisation, role=ProjectPartner.Role.PARTNER)
    audit_record(actor, Action.CREATE, partner, after=snapshot(partner), scope=project, source=source)
    return partner


@transaction.atomic
def project_partner_remove(actor, partner: ProjectPartner, *, source: str = Source.WEB) -> None:
    project = partner.project
    if partner.role == ProjectPartner.Role.OWNER or partner.organisation_id == project.owner_id:
        raise ValidationError(_("The project owner cannot be removed; change the owner on the project first."))
    staff = project.memberships.filter(organisation=partner.organisation).count()
    if staff:
        raise ValidationError(_(
            "%(count)d members work in the project as staff of %(name)s; remove them or move them to "
            "another partner first."
        ) % {"count": staff, "name": partner.organisation.name})
    before = snapshot(partner)
    audit_record(actor, Action.ARCHIVE, partner, before=before, scope=project, source=source,
                 message=_("Removed from the project"))
    partner.delete()


def _check_member_organisation(project: Project, organisation: Organisation | None) -> None:
    if organisation is not None and not project.partners.filter(organisation=organisation).exists():
        raise ValidationError({"organisation": _("Members work for one of the project's partners.")})


def _check_staff(user) -> None:
    if not user.is_active:
        raise ValidationError({"user": _("This account is deactivated.")})
    names = set(user.groups.values_list("name", flat=True))
    if not (user.is_superuser or names & {r.value for r in STAFF_ROLES}):
        raise ValidationError({"user": _(
            "Only staff (project managers, advisors, finance officers, auditors, administrators) work in projects."
        )})


@transaction.atomic
def project_member_add(
    actor, project: Project, user, organisation: Organisation | None = None, *, source: str = Source.WEB
) -> ProjectMembership:
    _check_staff(user)
    _check_member_organisation(project, organisation)
    if project.memberships.filter(user=user).exists():
        raise ValidationError({"user": _("%(name)s is already a member of this project.") % {
            "name": user.get_full_name() or user.get_username()}})
    membership = ProjectMembership.objects.create(project=project, user=user, organisation=organisation)
    audit_record(actor, Action.CREATE, membership, after=snapshot(membership), scope=project, source=source)
    return membership


@transaction.atomic
def project_member_update(
    actor, membership: ProjectMembership, organisation: Organisation | None, *, source: str = Source.WEB
) -> ProjectMembership:
    _check_member_organisation(membership.project, organisation)
    before = snapshot(membership)
    membership.organisation = organisation
    membership.save(update_fields=["organisation"])
    after = snapshot(membership)
    if after != before:
        audit_record(actor, Action.UPDATE, membership, before=before, after=after, scope=membership.project,
                     source=source)
    return membership


@transaction.atomic
def project_member_remove(actor, membership: ProjectMembership, *, source: str = Source.WEB) -> None:
    project = membership.project
    if _actor(actor) is not None and membership.user_id == actor.pk and not actor.is_superuser:
        others = [m.user for m in project.memberships.exclude(pk=membership.pk).select_related("user")]
        if not any(u.is_active and u.has_perm("programmes.manage_project") for u in others):
            raise ValidationError(_(
                "You are the only member who can manage this project; add another project manager before leaving."
            ))
    audit_record(actor, Action.ARCHIVE, membership, before=snapshot(membership), scope=project, source=source,
                 message=_("Removed from the project"))
    membership.delete()


# --- Reads used by the project pages ----------------------------------------------------------


def member_candidates(project: Project) -> QuerySet:
    """Active staff accounts that are not yet members."""
    User = get_user_model()
    return (
        User.objects.filter(is_active=True)
        .filter(groups__name__in=[r.value for r in STAFF_ROLES])
        .exclude(project_memberships__project=project)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def project_counts(project: Project) -> dict[str, int]:
    """How much work the project holds (one aggregate query per table)."""
    from sim.activities.models import Activity, Event

    from .models import Intervention, Mailing, Offer, Referral

    activities = Activity.objects.filter(project=project).aggregate(n=Count("id"), companies=Count("company", distinct=True))
    return {
        "offers": Offer.objects.filter(project=project).count(),
        "referrals": Referral.objects.filter(project=project).count(),
        "interventions": Intervention.objects.filter(project=project).count(),
        "activities": activities["n"],
        "companies_with_activities": activities["companies"],
        "events": Event.objects.filter(project=project).count(),
        "mailings": Mailing.objects.filter(project=project).count(),
        "members": project.memberships.count(),
        "partners": project.partners.count(),
    }
