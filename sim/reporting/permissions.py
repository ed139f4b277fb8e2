from sim.core.roles import Role

_READ = [
    "reporting.view_projectindicatorset", "reporting.view_projectindicator", "reporting.view_indicatormilestone",
    "reporting.view_indicatorentry",
]
_MANAGE = [
    "reporting.add_projectindicatorset", "reporting.change_projectindicatorset",
    "reporting.add_projectindicator", "reporting.change_projectindicator",
    "reporting.add_indicatormilestone", "reporting.change_indicatormilestone",
    "reporting.add_indicatorentry",
]

ROLE_PERMISSIONS = {
    # Project managers choose the set, set targets and record values; the rest read the reports.
    Role.PROJECT_MANAGER: [*_READ, *_MANAGE],
    Role.FINANCE_OFFICER: [*_READ],
    Role.AUDITOR: [*_READ],
    Role.ADVISOR: [*_READ],
}
