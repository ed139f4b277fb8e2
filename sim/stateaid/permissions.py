"""Who may do what in the de minimis ledger.

Finance officers and project managers (and administrators, who have every permission) keep the
ledger: grant, propose, revoke, import rates. Auditors read everything (ledger, rates, check,
certificates, the central-register export). Advisors read the ledger and record companies'
declarations of earlier aid. A company representative reads only their own company's awards and may
declare earlier aid for it (object scoping in ``selectors.awards_visible_to`` and the views).
"""

from sim.core.roles import Role

_READ = ["stateaid.view_aidaward", "stateaid.view_exchangerate", "stateaid.check_deminimis",
         "stateaid.view_undertakingprofile"]
_WRITE = [
    "stateaid.add_aidaward", "stateaid.revoke_aidaward", "stateaid.declare_aidaward", "stateaid.export_aidaward",
    "stateaid.add_exchangerate", "stateaid.change_exchangerate", "stateaid.import_exchangerate",
    "stateaid.add_undertakingprofile", "stateaid.change_undertakingprofile",
]

ROLE_PERMISSIONS = {
    Role.FINANCE_OFFICER: [*_READ, *_WRITE],
    Role.PROJECT_MANAGER: [*_READ, *_WRITE],
    Role.AUDITOR: [*_READ, "stateaid.export_aidaward"],
    Role.ADVISOR: [*_READ, "stateaid.declare_aidaward"],
    Role.COMPANY_REPRESENTATIVE: ["stateaid.view_aidaward", "stateaid.declare_aidaward"],
}
