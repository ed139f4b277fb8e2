from sim.core.roles import Role

_READ = [
    "assessments.view_assessment",
    "assessments.view_need",
    "assessments.view_growthplan",
    "assessments.view_growthgoal",
    "assessments.view_growthaction",
]
_WRITE = [
    "assessments.add_assessment",
    "assessments.change_assessment",
    "assessments.complete_assessment",
    "assessments.send_self_assessment",
    "assessments.view_assessment_text",
    "assessments.add_need",
    "assessments.change_need",
    "assessments.add_growthplan",
    "assessments.change_growthplan",
    "assessments.add_growthgoal",
    "assessments.change_growthgoal",
    "assessments.delete_growthgoal",
    "assessments.add_growthaction",
    "assessments.change_growthaction",
    "assessments.delete_growthaction",
]

ROLE_PERMISSIONS = {
    Role.PROJECT_MANAGER: [*_READ, *_WRITE],
    Role.ADVISOR: [*_READ, *_WRITE],
    # Auditors read scores, needs and plans, but not the free-text answers and notes of interviews.
    Role.AUDITOR: [*_READ],
    # A company representative sees their own company's completed results and shared plans only
    # (scoped in selectors).
    Role.COMPANY_REPRESENTATIVE: ["assessments.view_assessment", "assessments.view_growthplan",
                                  "assessments.view_growthgoal", "assessments.view_growthaction",
                                  "assessments.view_need"],
}
