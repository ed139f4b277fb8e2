from sim.core.roles import Role

_READ = [
    "programmes.view_project", "programmes.view_offer", "programmes.view_referral", "programmes.view_intervention",
    "programmes.view_followup", "programmes.view_mailing", "programmes.view_organisation", "programmes.view_focusarea",
]
_ADVISOR_WRITE = [
    "programmes.add_referral", "programmes.change_referral",
    "programmes.add_intervention", "programmes.change_intervention",
    "programmes.add_followup", "programmes.change_followup",
    "programmes.add_mailing", "programmes.change_mailing",
    "programmes.add_offer", "programmes.change_offer",
    "programmes.add_organisation", "programmes.change_organisation",
]

ROLE_PERMISSIONS = {
    Role.PROJECT_MANAGER: [*_READ, *_ADVISOR_WRITE, "programmes.manage_project", "programmes.add_project",
                           "programmes.change_project", "programmes.approve_intervention"],
    Role.ADVISOR: [*_READ, *_ADVISOR_WRITE],
    # Finance officers approve interventions against budget and state-aid rules.
    Role.FINANCE_OFFICER: [*_READ, "programmes.approve_intervention"],
    Role.AUDITOR: [*_READ],
}
