"""What each role may do in the company register.

Object scoping (a company representative sees only their own company) is applied on top of
these by `selectors.companies_visible_to`.
"""

from sim.core.roles import Role

_READ = [
    "companies.view_company",
    "companies.view_keyfigures",
    "companies.view_ownershiplink",
    "companies.view_contact",
]
_WRITE = [
    "companies.add_company",
    "companies.change_company",
    "companies.archive_company",
    "companies.import_companies",
    "companies.export_companies",
    "companies.add_keyfigures",
    "companies.change_keyfigures",
    "companies.add_ownershiplink",
    "companies.change_ownershiplink",
    "companies.delete_ownershiplink",
    "companies.add_contact",
    "companies.change_contact",
    "companies.view_contact_notes",
]

ROLE_PERMISSIONS = {
    Role.PROJECT_MANAGER: [*_READ, *_WRITE],
    Role.ADVISOR: [*_READ, *_WRITE],
    Role.FINANCE_OFFICER: [*_READ, "companies.export_companies"],
    Role.AUDITOR: [*_READ, "companies.export_companies"],
    Role.COMPANY_REPRESENTATIVE: ["companies.view_company", "companies.view_keyfigures", "companies.view_contact"],
    Role.EDUCATION_PROVIDER: [],
}
