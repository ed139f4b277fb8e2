"""Reads of the register: search, filters, sorting and who sees what."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from sim.companies import selectors, services
from sim.companies.models import Company
from sim.companies.selectors import CompanyFilters
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory, ContactFactory
from sim.core.roles import Role

pytestmark = pytest.mark.django_db

REGISTER_WIDE = [Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.FINANCE_OFFICER, Role.AUDITOR]


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


def names(queryset) -> list[str]:
    return [c.name for c in queryset]


def listed(user, **params) -> list[str]:
    return names(selectors.company_list(user, CompanyFilters.from_params(params)))


# --- Search ---------------------------------------------------------------------------------


@pytest.fixture
def register():
    return {
        "storsjon": CompanyFactory(name="Storsjöns Mekaniska AB", org_number="5560360793"),
        "are": CompanyFactory(name="Åre Plåt & Svets AB"),
        "gjuteri": CompanyFactory(name="Östersunds Gjuteri AB"),
        "brunflo": CompanyFactory(name="Brunflo Trä AB"),
        "arkiv": CompanyFactory(name="Ärligt Arkiv AB"),
    }


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("sjöns meka", ["Storsjöns Mekaniska AB"]),
        ("MEKANISKA", ["Storsjöns Mekaniska AB"]),
        ("mekanisk", ["Storsjöns Mekaniska AB"]),
        ("åre", ["Åre Plåt & Svets AB"]),
        ("ÅRE PLÅT", ["Åre Plåt & Svets AB"]),
        ("plåt", ["Åre Plåt & Svets AB"]),
        ("ÖSTERSUND", ["Östersunds Gjuteri AB"]),
        ("gjut", ["Östersunds Gjuteri AB"]),
        ("ärligt", ["Ärligt Arkiv AB"]),
        ("ÄRLIGT", ["Ärligt Arkiv AB"]),
        ("trä ab", ["Brunflo Trä AB"]),
        ("  brunflo   trä ", ["Brunflo Trä AB"]),
        ("svets & plåt", []),
        ("nothing like it", []),
    ],
)
def test_search_by_name_fragment(admin, register, term, expected):
    assert listed(admin, q=term) == expected


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("ös", ["Östersunds Gjuteri AB"]),  # short terms match the start of a word
        ("ÖS", ["Östersunds Gjuteri AB"]),
        ("Å", ["Åre Plåt & Svets AB"]),
        ("tr", ["Brunflo Trä AB"]),
        ("br", ["Brunflo Trä AB"]),
        ("ek", []),  # not the start of a word
    ],
)
def test_search_with_short_terms(admin, register, term, expected):
    assert listed(admin, q=term) == expected


@pytest.mark.parametrize(
    "term", ["5560360793", "556036-0793", "165560360793", "16556036-0793", "556036 0793", "556036", "556036-07", "55603"]
)
def test_search_by_org_number(admin, register, term):
    assert listed(admin, q=term) == ["Storsjöns Mekaniska AB"]


def test_search_for_an_org_number_prefix_lists_all_matches(admin):
    CompanyFactory(name="Ett AB", org_number="5560360793")
    CompanyFactory(name="Två AB", org_number="5560361338")
    CompanyFactory(name="Tre AB", org_number="5561234567"[:9] + "1")
    assert listed(admin, q="556036") == ["Ett AB", "Två AB"]


def test_search_handles_quotes_and_operators(admin, register):
    for term in ['"', 'mek"an', "AND OR NOT", "sjö*", "(plåt)", "-svets", "'"]:
        listed(admin, q=term)  # no error


def test_empty_search_lists_everything(admin, register):
    assert len(listed(admin, q="   ")) == 5


def test_search_finds_a_renamed_company_by_its_new_name(admin, register):
    services.company_update(admin, register["brunflo"], {"name": "Jämtlands Snickeri AB"})
    assert listed(admin, q="snickeri") == ["Jämtlands Snickeri AB"]
    assert listed(admin, q="brunflo") == []


def test_search_combines_with_filters(admin, register):
    CompanyFactory(name="Mekaniska Verkstaden i Stockholm AB", municipality_id="0180")
    assert listed(admin, q="mekaniska", municipality="2380") == ["Storsjöns Mekaniska AB"]
    assert len(listed(admin, q="mekaniska")) == 2


# --- Filters --------------------------------------------------------------------------------


def test_filter_by_municipality_and_county(admin):
    CompanyFactory(name="Östersund AB", municipality_id="2380")
    CompanyFactory(name="Krokom AB", municipality_id="2309")
    CompanyFactory(name="Stockholm AB", municipality_id="0180")
    CompanyFactory(name="Okänd ort AB", municipality_id=None)
    assert listed(admin, municipality="2309") == ["Krokom AB"]
    assert listed(admin, county="23") == ["Krokom AB", "Östersund AB"]
    assert listed(admin, county="01") == ["Stockholm AB"]
    assert len(listed(admin)) == 4


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("25", ["Legoarbete AB", "Smide AB"]),
        ("25.6", ["Legoarbete AB"]),
        ("25.620", ["Legoarbete AB"]),
        ("2562", ["Legoarbete AB"]),
        ("62", ["Mjukvara AB"]),
        ("1", []),
    ],
)
def test_filter_by_sni_prefix(admin, prefix, expected):
    CompanyFactory(name="Legoarbete AB", sni_primary="25620")
    CompanyFactory(name="Smide AB", sni_primary="25500")
    CompanyFactory(name="Mjukvara AB", sni_primary="62010")
    CompanyFactory(name="Okänd bransch AB", sni_primary="")
    assert listed(admin, sni=prefix) == expected


def test_a_malformed_sni_filter_is_reported_and_ignored():
    filters = CompanyFilters.from_params({"sni": "tjugofem"})
    assert filters.sni == ""
    assert "sni" in filters.errors


def test_filter_by_size_class(admin):
    CompanyFactory(name="Mikro AB", size_class="micro")
    CompanyFactory(name="Liten AB", size_class="small")
    CompanyFactory(name="Stor AB", size_class="large")
    CompanyFactory(name="Okänd AB", size_class="")
    assert listed(admin, size_class="micro") == ["Mikro AB"]
    assert listed(admin, size_class="large") == ["Stor AB"]
    assert listed(admin, size_class="unknown") == ["Okänd AB"]
    filters = CompanyFilters.from_params({"size_class": "giant"})
    assert filters.errors == {"size_class": "Unknown size class."}
    assert len(listed(admin, size_class="giant")) == 4


def test_filter_by_status_hides_archived_by_default(admin):
    for status in ("prospect", "active", "alumni", "archived"):
        CompanyFactory(name=f"{status.title()} AB", status=status)
    assert listed(admin) == ["Active AB", "Alumni AB", "Prospect AB"]
    assert listed(admin, status="archived") == ["Archived AB"]
    assert listed(admin, status="active") == ["Active AB"]
    assert listed(admin, status="all") == ["Active AB", "Alumni AB", "Archived AB", "Prospect AB"]
    filters = CompanyFilters.from_params({"status": "sleeping"})
    assert filters.errors == {"status": "Unknown status."}
    assert listed(admin, status="sleeping") == ["Active AB", "Alumni AB", "Prospect AB"]


@pytest.fixture
def target_candidates():
    return {
        "manufacturing": CompanyFactory(name="Tillverkare i Jämtland AB", sni_primary="25620", municipality_id="2380"),
        "repair": CompanyFactory(name="Reparatör i Jämtland AB", sni_primary="33120", municipality_id="2309"),
        "software": CompanyFactory(name="Mjukvara i Jämtland AB", sni_primary="62010", municipality_id="2380"),
        "wholesale": CompanyFactory(name="Grossist i Jämtland AB", sni_primary="46620", municipality_id="2380"),
        "shop": CompanyFactory(name="Butik i Jämtland AB", sni_primary="47110", municipality_id="2380"),
        "stockholm": CompanyFactory(name="Tillverkare i Stockholm AB", sni_primary="25620", municipality_id="0180"),
        "nowhere": CompanyFactory(name="Tillverkare utan ort AB", sni_primary="25620", municipality_id=None),
        "no_code": CompanyFactory(name="Okänd bransch AB", sni_primary="", municipality_id="2380"),
    }


def test_target_group_with_the_default_settings(admin, target_candidates, settings):
    settings.SIM_TARGET_COUNTIES = ["23"]
    settings.SIM_MANUFACTURING_ADJACENT_SNI = ["33", "466", "711", "721", "62"]
    inside = [
        "Grossist i Jämtland AB", "Mjukvara i Jämtland AB", "Reparatör i Jämtland AB", "Tillverkare i Jämtland AB",
    ]
    assert listed(admin, target_group="yes") == inside
    outside = listed(admin, target_group="no")
    assert outside == [
        "Butik i Jämtland AB", "Okänd bransch AB", "Tillverkare i Stockholm AB", "Tillverkare utan ort AB",
    ]
    assert len(inside) + len(outside) == len(target_candidates)
    assert selectors.is_in_target_group(target_candidates["manufacturing"])
    assert not selectors.is_in_target_group(target_candidates["stockholm"])


def test_target_group_honours_the_county_setting(admin, target_candidates, settings):
    settings.SIM_TARGET_COUNTIES = ["01"]
    assert listed(admin, target_group="yes") == ["Tillverkare i Stockholm AB"]
    settings.SIM_TARGET_COUNTIES = ["01", "23"]
    assert "Tillverkare i Stockholm AB" in listed(admin, target_group="yes")
    assert "Tillverkare i Jämtland AB" in listed(admin, target_group="yes")


def test_target_group_honours_the_adjacent_sni_setting(admin, target_candidates, settings):
    settings.SIM_TARGET_COUNTIES = ["23"]
    settings.SIM_MANUFACTURING_ADJACENT_SNI = []
    assert listed(admin, target_group="yes") == ["Reparatör i Jämtland AB", "Tillverkare i Jämtland AB"]
    settings.SIM_MANUFACTURING_ADJACENT_SNI = ["4711"]
    assert "Butik i Jämtland AB" in listed(admin, target_group="yes")
    assert "Mjukvara i Jämtland AB" in listed(admin, target_group="no")


def test_target_group_accepts_codes_written_with_dots(admin, target_candidates, settings):
    settings.SIM_TARGET_COUNTIES = ["23"]
    settings.SIM_MANUFACTURING_ADJACENT_SNI = ["46.6"]
    assert "Grossist i Jämtland AB" in listed(admin, target_group="yes")


def test_filter_by_owner(make_user, admin):
    anna = make_user(Role.ADVISOR)
    bertil = make_user(Role.ADVISOR)
    CompanyFactory(name="Annas AB", owner_advisor=anna)
    CompanyFactory(name="Bertils AB", owner_advisor=bertil)
    CompanyFactory(name="Ingens AB", owner_advisor=None)
    assert listed(anna, owner="me") == ["Annas AB"]
    assert listed(bertil, owner="me") == ["Bertils AB"]
    assert listed(anna, owner="none") == ["Ingens AB"]
    assert listed(anna, owner=str(bertil.pk)) == ["Bertils AB"]
    assert len(listed(anna, owner="somebody")) == 3
    assert names(selectors.companies_owned_by(anna)) == ["Annas AB"]


def test_filters_round_trip_through_the_query_string():
    filters = CompanyFilters.from_params({"q": " meka ", "status": "all", "sort": "name", "county": "23"})
    assert filters.as_query() == {"q": "meka", "status": "all", "county": "23"}
    assert CompanyFilters.from_params({"sort": "-size"}).as_query() == {"sort": "-size"}
    assert CompanyFilters.from_params({"sort": "drop table"}).sort == "name"


# --- Sorting --------------------------------------------------------------------------------


@pytest.fixture
def sortable():
    CompanyFactory(name="Beta AB", org_number="5560360793", size_class="large", status="active",
                   municipality_id="2380")
    CompanyFactory(name="Alfa AB", org_number="5569999999"[:9] + "5", size_class="micro", status="prospect",
                   municipality_id="0180")
    CompanyFactory(name="Gamma AB", org_number="5561111111"[:9] + "6", size_class="", status="alumni",
                   municipality_id="2309")
    CompanyFactory(name="Delta AB", org_number="5562222222"[:9] + "7", size_class="small", status="active",
                   municipality_id="2380")


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alfa AB", "Beta AB", "Delta AB", "Gamma AB"]),
        ("-name", ["Gamma AB", "Delta AB", "Beta AB", "Alfa AB"]),
        ("org_number", ["Beta AB", "Gamma AB", "Delta AB", "Alfa AB"]),
        ("-org_number", ["Alfa AB", "Delta AB", "Gamma AB", "Beta AB"]),
        ("municipality", ["Gamma AB", "Alfa AB", "Beta AB", "Delta AB"]),
        ("size", ["Alfa AB", "Delta AB", "Beta AB", "Gamma AB"]),
        ("-size", ["Beta AB", "Delta AB", "Alfa AB", "Gamma AB"]),
        ("status", ["Alfa AB", "Beta AB", "Delta AB", "Gamma AB"]),
        ("-status", ["Gamma AB", "Beta AB", "Delta AB", "Alfa AB"]),
        ("unknown", ["Alfa AB", "Beta AB", "Delta AB", "Gamma AB"]),
    ],
)
def test_sorting(admin, sortable, sort, expected):
    assert listed(admin, sort=sort) == expected


def test_sorting_by_recent_change(admin, sortable):
    services.company_update(admin, Company.objects.get(name="Delta AB"), {"phone": "063-12 34 56"})
    assert listed(admin, sort="-updated")[0] == "Delta AB"
    assert listed(admin, sort="updated")[-1] == "Delta AB"


# --- Visibility -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", REGISTER_WIDE)
def test_register_wide_roles_see_every_company(make_user, role):
    CompanyFactory.create_batch(3)
    user = make_user(role)
    assert selectors.companies_visible_to(user).count() == 3
    assert len(listed(user)) == 3


def test_a_representative_sees_only_their_company(make_user):
    own, other = CompanyFactory(name="Eget AB"), CompanyFactory(name="Annat AB")
    rep = make_user(Role.COMPANY_REPRESENTATIVE)
    CompanyRepresentativeFactory(user=rep, company=own)
    assert names(selectors.companies_visible_to(rep)) == ["Eget AB"]
    assert listed(rep) == ["Eget AB"]
    assert listed(rep, q="annat") == []
    assert selectors.company_for_user(rep, own.pk) == own
    assert selectors.company_for_user(rep, other.pk) is None


def test_a_representative_without_a_company_sees_nothing(make_user):
    CompanyFactory()
    assert not selectors.companies_visible_to(make_user(Role.COMPANY_REPRESENTATIVE)).exists()


def test_a_representative_link_alone_gives_no_access(make_user):
    company = CompanyFactory()
    user = make_user(Role.EDUCATION_PROVIDER)
    CompanyRepresentativeFactory(user=user, company=company)
    assert not selectors.companies_visible_to(user).exists()


@pytest.mark.parametrize("role", [Role.EDUCATION_PROVIDER, None])
def test_others_see_nothing(make_user, role):
    CompanyFactory()
    user = make_user(role)
    assert not selectors.companies_visible_to(user).exists()
    assert listed(user) == []
    assert selectors.companies_visible_to(AnonymousUser()).count() == 0


def test_superusers_see_everything():
    CompanyFactory.create_batch(2)
    root = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    assert selectors.companies_visible_to(root).count() == 2


# --- Summaries and related records ----------------------------------------------------------


def test_register_summary(admin, settings):
    settings.SIM_TARGET_COUNTIES = ["23"]
    CompanyFactory(status="active", sni_primary="25620", municipality_id="2380")
    CompanyFactory(status="prospect", sni_primary="47110", municipality_id="2380")
    CompanyFactory(status="archived", sni_primary="25620", municipality_id="2380")
    summary = selectors.register_summary(admin)
    assert summary["total"] == 2
    assert summary["target_group"] == 1
    counts = {row["status"]: row["count"] for row in summary["by_status"]}
    assert counts == {"prospect": 1, "active": 1, "alumni": 0, "archived": 1}


def test_contacts_of_hides_archived_unless_asked():
    company = CompanyFactory()
    ContactFactory(company=company, name="Aktiv Person")
    archived = ContactFactory(company=company, name="Arkiverad Person")
    services.contact_archive(None, archived)
    assert [c.name for c in selectors.contacts_of(company)] == ["Aktiv Person"]
    assert [c.name for c in selectors.contacts_of(company, include_archived=True)] == [
        "Aktiv Person", "Arkiverad Person",
    ]


def test_recent_changes_need_the_audit_permission(make_user):
    company = CompanyFactory()
    services.company_update(None, company, {"phone": "1"})
    assert selectors.recent_changes(make_user(Role.AUDITOR)).count() == 1
    assert selectors.recent_changes(make_user(Role.COMPANY_REPRESENTATIVE)).count() == 0


def test_search_triggers_come_back_after_a_table_rebuild():
    """A migration that rebuilds companies_company drops the FTS triggers; post_migrate restores them."""
    from django.db import connection as conn

    if conn.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 triggers")
    from sim.companies.search_index import TRIGGER_NAMES, ensure_search_triggers, search_triggers_present

    assert search_triggers_present(conn) >= TRIGGER_NAMES
    with conn.cursor() as cursor:
        for name in TRIGGER_NAMES:
            cursor.execute(f"DROP TRIGGER {name}")
    assert not search_triggers_present(conn) & TRIGGER_NAMES
    ensure_search_triggers(using="default")
    assert search_triggers_present(conn) >= TRIGGER_NAMES
    company = CompanyFactory(name="Triggertestet AB")
    assert company in selectors.company_search(Company.objects.all(), "iggertes")
