from contextlib import suppress

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .roles import user_roles


def navigation(request):
    """The main menu, filtered by what the user may see."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_role_labels": []}
    items = [{"url": reverse("home"), "label": _("Start"), "key": "home"}]
    if user.has_perm("companies.view_company"):
        items.append({"url": reverse("companies:list"), "label": _("Companies"), "key": "companies"})
    if user.has_perm("companies.import_companies"):
        items.append({"url": reverse("companies:import"), "label": _("Import"), "key": "import"})
    if user.has_perm("companies.merge_company"):
        items.append({"url": reverse("companies:duplicates"), "label": _("Duplicates"), "key": "duplicates"})
    # Programme work; a page another part of the system has not (yet) installed is left out.
    for perm, name, label, key in (
        ("programmes.view_project", "programmes:project-list", _("Projects"), "projects"),
        ("programmes.view_offer", "programmes:offer-list", _("Offers"), "offers"),
        ("programmes.view_referral", "programmes:pipeline", _("Pipeline"), "pipeline"),
        ("activities.view_activity", "activities:list", _("Activities"), "activities"),
        ("activities.view_event", "activities:event-list", _("Events"), "events"),
        ("programmes.view_mailing", "programmes:mailing-list", _("Mailings"), "mailings"),
        ("finance.view_budgetscenario", "finance:home", _("Finance"), "finance"),
        ("finance.view_costentry", "finance:costs", _("Costs and time"), "costs"),
        ("competence.view_educationoffering", "competence:offerings", _("Education offerings"), "offerings"),
        ("reporting.view_projectindicator", "reporting:home", _("Reports"), "reports"),
        ("stateaid.view_aidaward", "stateaid:ledger", _("De minimis"), "stateaid"),
    ):
        if user.has_perm(perm):
            with suppress(NoReverseMatch):
                items.append({"url": reverse(name), "label": label, "key": key})
    from sim.competence.selectors import sees_demand_report

    if sees_demand_report(user):
        items.append({"url": reverse("competence:report"), "label": _("Competence demand"), "key": "competence"})
    items.append({"url": reverse("api-tokens"), "label": _("API"), "key": "api"})
    return {
        "nav_items": items,
        "user_role_labels": sorted(role.label for role in user_roles(user)),
    }
