from sim.core.roles import Role

_READ = ["competence.view_concept", "competence.view_competenceneed", "competence.view_educationoffering"]
_ADVISOR = [
    "competence.add_competenceneed", "competence.change_competenceneed",
    "competence.add_educationoffering", "competence.change_educationoffering",
    "competence.add_concept", "competence.change_concept",
]

ROLE_PERMISSIONS = {
    Role.PROJECT_MANAGER: [*_READ, *_ADVISOR],
    Role.ADVISOR: [*_READ, *_ADVISOR],
    Role.AUDITOR: [*_READ],
    # Company representatives record their own company's needs in the portal (scoped in selectors).
    Role.COMPANY_REPRESENTATIVE: ["competence.view_concept", "competence.view_competenceneed",
                                  "competence.add_competenceneed", "competence.change_competenceneed",
                                  "competence.view_educationoffering"],
    # Education providers maintain their own offerings and read only anonymised demand.
    Role.EDUCATION_PROVIDER: ["competence.view_concept", "competence.view_educationoffering",
                              "competence.add_educationoffering", "competence.change_educationoffering"],
}
