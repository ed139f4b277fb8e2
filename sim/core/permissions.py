from .roles import Role

ROLE_PERMISSIONS = {
    Role.PROJECT_MANAGER: ["core.view_auditevent"],
    Role.ADVISOR: ["core.view_auditevent"],
    Role.FINANCE_OFFICER: ["core.view_auditevent"],
    Role.AUDITOR: ["core.view_auditevent"],
}
