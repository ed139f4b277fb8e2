"""Keeps the reference tables (counties, municipalities, SNI codes) equal to the shipped data."""

from __future__ import annotations

from django.db import transaction


@transaction.atomic
def reference_data_sync(apps=None) -> dict[str, int]:
    """Insert or update every shipped reference row. Safe to run again; used by a migration."""
    from .reference import load_municipalities, load_sni_codes

    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    County = apps.get_model("companies", "County")
    Municipality = apps.get_model("companies", "Municipality")
    SniCode = apps.get_model("companies", "SniCode")

    municipalities = load_municipalities()
    counties = {m.county_code: m.county_name for m in municipalities}
    existing = set(County.objects.values_list("code", flat=True))
    County.objects.bulk_create([County(code=c, name=n) for c, n in counties.items() if c not in existing])
    for code, name in counties.items():
        County.objects.filter(code=code).exclude(name=name).update(name=name)

    existing = set(Municipality.objects.values_list("code", flat=True))
    Municipality.objects.bulk_create(
        [Municipality(code=m.code, name=m.name, county_id=m.county_code) for m in municipalities if m.code not in existing]
    )
    for m in municipalities:
        if m.code in existing:
            Municipality.objects.filter(code=m.code).exclude(name=m.name, county_id=m.county_code).update(
                name=m.name, county_id=m.county_code
            )

    codes = load_sni_codes()
    existing = set(SniCode.objects.filter(system="SNI2007").values_list("code", flat=True))
    SniCode.objects.bulk_create(
        [
            SniCode(system="SNI2007", code=c.code, level=c.level, parent_code=c.parent or "", name_sv=c.name_sv, name_en=c.name_en)
            for c in codes
            if c.code not in existing
        ],
        batch_size=500,
    )
    for c in codes:
        if c.code in existing:
            SniCode.objects.filter(system="SNI2007", code=c.code).exclude(
                level=c.level, parent_code=c.parent or "", name_sv=c.name_sv, name_en=c.name_en
            ).update(level=c.level, parent_code=c.parent or "", name_sv=c.name_sv, name_en=c.name_en)
    return {"counties": len(counties), "municipalities": len(municipalities), "sni_codes": len(codes)}
