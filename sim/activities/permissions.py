from sim.core.roles import Role

_READ = ["activities.view_activity", "activities.view_event", "activities.view_registration"]
_WRITE = [
    "activities.add_activity", "activities.change_activity", "activities.view_activity_notes",
    "activities.add_event", "activities.change_event",
    "activities.add_registration", "activities.change_registration",
]

ROLE_PERMISSIONS = {
    Role.PROJECT_MANAGER: [*_READ, *_WRITE],
    Role.ADVISOR: [*_READ, *_WRITE],
    Role.FINANCE_OFFICER: [*_READ],
    # Auditors see activities and hours, never the notes.
    Role.AUDITOR: [*_READ],
}
