"""Roles (roller) are Django groups; their permissions are declared by each app.

Each app may have a `permissions.py` with `ROLE_PERMISSIONS = {Role.X: ["app_label.codename", ...]}`.
`sync_roles()` makes the groups match those declarations and runs after every `migrate`.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import import_module

from django.apps import apps
from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    ADMIN = "admin"
    PROJECT_MANAGER = "project_manager"
    ADVISOR = "advisor"
    FINANCE_OFFICER = "finance_officer"
    AUDITOR = "auditor"
    COMPANY_REPRESENTATIVE = "company_representative"
    EDUCATION_PROVIDER = "education_provider"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _("Administrator"),
    Role.PROJECT_MANAGER: _("Project manager"),
    Role.ADVISOR: _("Business advisor"),
    Role.FINANCE_OFFICER: _("Finance officer"),
    Role.AUDITOR: _("Auditor / funder"),
    Role.COMPANY_REPRESENTATIVE: _("Company representative"),
    Role.EDUCATION_PROVIDER: _("Education provider"),
}

# Roles that see every company in the register (others see none or only their own).
REGISTER_WIDE_ROLES = frozenset(
    {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR}
)


def declared_role_permissions() -> dict[Role, set[str]]:
    """Collect `ROLE_PERMISSIONS` from every installed SIM app."""
    result: dict[Role, set[str]] = {role: set() for role in Role}
    for config in apps.get_app_configs():
        if not config.name.startswith("sim."):
            continue
        try:
            module = import_module(f"{config.name}.permissions")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.permissions":
                raise
            continue
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            result[Role(role)].update(perms)
    return result


def sync_roles() -> None:
    """Create one group per role and give it exactly its declared permissions."""
    from django.contrib.auth.models import Group, Permission

    declared = declared_role_permissions()
    all_perms = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for role in Role:
        group, _created = Group.objects.get_or_create(name=role.value)
        if role is Role.ADMIN:
            wanted = [p for key, p in all_perms.items() if key.split(".")[0] in _sim_labels() or key.startswith("auth.")]
        else:
            missing = sorted(key for key in declared[role] if key not in all_perms)
            if missing:
                raise LookupError(f"Role {role} declares unknown permissions: {', '.join(missing)}")
            wanted = [all_perms[key] for key in declared[role]]
        group.permissions.set(wanted)


def _sim_labels() -> set[str]:
    return {c.label for c in apps.get_app_configs() if c.name.startswith("sim.")}


def sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    # post_migrate fires once per app; permissions of every app exist only when it fires for
    # the last one, so sync then.
    # (Django sends it only for apps that have a models module.)
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if app_config is None or app_config is not with_models[-1]:
        return
    sync_roles()


def user_roles(user) -> set[Role]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_sim_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = {role for role in Role if role.value in names}
        if user.is_superuser:
            cached.add(Role.ADMIN)
        user._sim_roles = cached
    return cached


def has_role(user, *roles: Role) -> bool:
    return bool(user_roles(user) & set(roles))
