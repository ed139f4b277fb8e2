from sim.core.roles import Role

_READ = [
    "finance.view_budgetscenario", "finance.view_budgetline", "finance.view_financingsource",
    "finance.view_costentry", "finance.view_timereport", "finance.view_staffrate",
]
_BUDGET = [
    "finance.add_budgetscenario", "finance.change_budgetscenario", "finance.delete_budgetscenario",
    "finance.add_budgetline", "finance.change_budgetline", "finance.delete_budgetline",
    "finance.add_financingsource", "finance.change_financingsource", "finance.delete_financingsource",
]
_ACTUALS = [
    "finance.add_costentry", "finance.import_costentry",
    "finance.add_timereport", "finance.change_timereport",
    "finance.add_staffrate", "finance.change_staffrate",
]

ROLE_PERMISSIONS = {
    Role.FINANCE_OFFICER: [*_READ, *_BUDGET, *_ACTUALS],
    # Project managers set up budgets and scenarios and read the actuals.
    Role.PROJECT_MANAGER: [*_READ, *_BUDGET],
    Role.AUDITOR: [*_READ],
}
