"""The seed programme's focus areas, shipped as reference data."""

SEED_FOCUS_AREAS = [
    ("financing", "Finansiering", "Financing",
     "Kapitalbehov, finansieringsformer och kontakter med finansiärer.",
     "Capital needs, forms of financing and contacts with financiers."),
    ("production_efficiency", "Produktionseffektivisering", "Production efficiency",
     "Flöden, automation, kvalitet och resurseffektivitet i produktionen.",
     "Flows, automation, quality and resource efficiency in production."),
    ("service_addition", "Tjänsteaddering", "Service addition",
     "Nya tjänster kring produkterna (servitisering) och nya affärsmodeller.",
     "New services around the products (servitisation) and new business models."),
    ("internationalisation", "Internationalisering", "Internationalisation",
     "Export, nya marknader och internationella nätverk.",
     "Exports, new markets and international networks."),
    ("growth_and_competence", "Tillväxtkartläggning och kompetensinventering", "Growth mapping and competence inventory",
     "Tillväxtanalys och företagets framtida kompetensbehov.",
     "Growth analysis and the company's future competence needs."),
]


def focus_areas_sync(apps=None) -> int:
    """Create the seed focus areas that are missing (existing ones are left as edited)."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    FocusArea = apps.get_model("programmes", "FocusArea")
    for order, (key, name_sv, name_en, description_sv, description_en) in enumerate(SEED_FOCUS_AREAS, start=1):
        FocusArea.objects.get_or_create(
            key=key,
            defaults={"name_sv": name_sv, "name_en": name_en, "description_sv": description_sv,
                      "description_en": description_en, "order": order},
        )
    return len(SEED_FOCUS_AREAS)
