from django.urls import reverse
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
    items.append({"url": reverse("api-tokens"), "label": _("API"), "key": "api"})
    return {
        "nav_items": items,
        "user_role_labels": sorted(role.label for role in user_roles(user)),
    }
