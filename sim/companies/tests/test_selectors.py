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


# --- Search windows and capped counts ---------------------------------------------------------


def windowed(user, **params) -> list[str]:
    """The list as the list page and the API get it (a name search: its window)."""
    return names(selectors.company_list(user, CompanyFilters.from_params(params), window=True))


@pytest.fixture
def meka():
    """Matches for "meka" spread over the alphabet, a duplicate name, an archived one and others."""
    for name in ("Golf Meka AB", "Alfa Meka AB", "Beta AB", "Delta Meka AB", "Cesar Meka AB", "Echo AB",
                 "Cesar Meka AB", "Foxtrot Meka AB", "Hotell Meka AB"):
        CompanyFactory(name=name, status="prospect")
    CompanyFactory(name="Bravo Meka AB", status="archived")
    CompanyFactory(name="Östra Meka AB", status="prospect", municipality_id="0180")
    return sorted(Company.objects.exclude(status="archived").filter(name__contains="Meka"), key=lambda c: (c.name, c.pk))


@pytest.fixture
def walks(monkeypatch):
    """What each walk of the name index found."""
    found = []
    walk = selectors._walk_name_index
    monkeypatch.setattr(selectors, "_walk_name_index", lambda *a, **kw: found.append(walk(*a, **kw)) or found[-1])
    return found


@pytest.fixture(params=["walk", "sort"])
def plan(request, monkeypatch, walks):
    """Both ways of finding a window: walking the name index, or sorting every match."""
    if request.param == "walk":
        monkeypatch.setattr(selectors, "SEARCH_WALK_PER_MATCH", 1_000)  # the whole index
    else:
        monkeypatch.setattr(selectors, "SEARCH_WALK_PER_MATCH", 0)  # no walk: sort them all
    return request.param, walks


def test_a_many_match_search_lists_its_first_matches_in_name_order(admin, meka, plan, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)
    expected = [c.name for c in meka]
    assert expected[:4] == ["Alfa Meka AB", "Cesar Meka AB", "Cesar Meka AB", "Delta Meka AB"]
    assert windowed(admin, q="MEKA") == expected[:4]  # the window: 3 and one more
    assert windowed(admin, q="meka", sort="-name") == expected[::-1][:4]
    assert listed(admin, q="meka") == expected  # the export: every match
    kind, walks = plan
    assert [len(ids) for ids in walks] == ([4, 4] if kind == "walk" else [])  # the walk filled both


def test_a_walk_that_runs_out_of_budget_leaves_the_window_to_the_sort(admin, meka, walks, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)
    monkeypatch.setattr(selectors, "SEARCH_WALK_PER_MATCH", 1_000)
    monkeypatch.setattr(selectors, "SEARCH_WALK_BUDGET", 4)  # Alfa, Beta, (Bravo,) Cesar, Cesar
    assert windowed(admin, q="meka") == [c.name for c in meka][:4]
    assert [len(ids) for ids in walks] == [3]


def test_sqlite_walks_without_a_budget_when_the_matches_are_many(admin, meka, walks, monkeypatch):
    from django.db import connection as conn

    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)
    monkeypatch.setattr(selectors, "SEARCH_WALK_PER_MATCH", 1_000)
    monkeypatch.setattr(selectors, "SEARCH_WALK_BUDGET", 4)
    monkeypatch.setattr(selectors, "SEARCH_MANY_MATCHES", 2)  # SQLite counts 8: many
    assert windowed(admin, q="meka") == [c.name for c in meka][:4]
    assert [len(ids) for ids in walks] == ([4] if conn.vendor == "sqlite" else [3])


def test_the_window_of_duplicate_names_is_ordered_by_id(admin, meka, plan, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 2)
    first, second = (c.pk for c in meka if c.name == "Cesar Meka AB")
    ids = [c.pk for c in selectors.company_list(admin, CompanyFilters.from_params({"q": "meka"}), window=True)]
    assert ids[1:3] == [min(first, second), max(first, second)]


def test_a_windowed_search_with_other_filters_sorts_its_matches(admin, meka, plan, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 1)
    assert windowed(admin, q="meka", municipality="2380") == ["Alfa Meka AB", "Cesar Meka AB"]
    assert windowed(admin, q="meka", municipality="0180") == ["Östra Meka AB"]
    assert windowed(admin, q="meka", status="archived") == ["Bravo Meka AB"]
    assert windowed(admin, q="meka", sort="org_number") == [
        c.name for c in sorted(meka, key=lambda c: c.org_number)[:2]
    ]
    assert plan[1] == []  # filtered or not in name order: no walk


def test_company_search_gives_the_first_matches_it_is_asked_for(meka, plan):
    assert names(selectors.company_search(Company.objects.all(), "meka", limit=3)) == [
        "Alfa Meka AB", "Bravo Meka AB", "Cesar Meka AB",
    ]
    assert len(selectors.company_search(Company.objects.all(), "meka")) == len(meka) + 1  # and the archived one


def test_windows_of_few_matches_are_exact(admin, meka, plan):
    assert windowed(admin, q="golf") == ["Golf Meka AB"]
    assert windowed(admin, q="nothing like it") == []
    assert windowed(admin, q="eta") == ["Beta AB"]


def test_short_terms_and_org_numbers_are_not_windowed(admin, meka, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 1)
    assert CompanyFilters.from_params({"q": "meka"}).count_cap == 1
    assert CompanyFilters.from_params({"q": "me"}).count_cap == selectors.LIST_COUNT_CAP
    assert CompanyFilters.from_params({"q": "5560"}).count_cap == selectors.LIST_COUNT_CAP
    assert CompanyFilters.from_params({}).count_cap == selectors.LIST_COUNT_CAP
    assert len(windowed(admin, q="ab")) == 10


def paginate(queryset, cap, page=1, per_page=2):
    return selectors.CappedPaginator(queryset, per_page, cap=cap).get_page(page)


def test_a_capped_paginator_counts_to_its_cap_and_pages_through_it(admin, meka):
    queryset = selectors.company_list(admin, CompanyFilters())  # 10 companies
    page = paginate(queryset, cap=5, page=3)
    assert page.paginator.count == 6  # cap + 1: "more than 5"
    assert page.paginator.is_capped
    assert page.paginator.num_pages == 3
    assert [c.name for c in page] == [c.name for c in queryset][4:5]
    assert [c.name for c in paginate(queryset, cap=5, page=9)] == [c.name for c in queryset][4:5]  # the last
    page = paginate(queryset, cap=10, page=5)
    assert (page.paginator.count, page.paginator.is_capped, page.paginator.num_pages) == (10, False, 5)
    assert [c.name for c in page] == [c.name for c in queryset][8:]


def test_a_page_is_loaded_ids_first_with_its_related_rows(admin, meka, django_assert_num_queries):
    queryset = selectors.company_list(admin, CompanyFilters.from_params({"sort": "-name"}))
    expected = [c.name for c in queryset][2:5]
    with django_assert_num_queries(2):  # the ids, then the rows with municipality and owner
        rows = selectors.page_rows(queryset, 2, 5)
        assert [c.name for c in rows] == expected
        assert all(c.municipality.name for c in rows)


def test_a_window_is_counted_and_paged_without_queries_but_its_rows(admin, meka, monkeypatch,
                                                                    django_assert_num_queries):
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)
    queryset = selectors.company_list(admin, CompanyFilters.from_params({"q": "meka"}), window=True)
    assert len(queryset.window) == 4
    assert not hasattr(queryset.filter(name="Alfa Meka AB"), "window")  # a narrower copy counts itself
    with django_assert_num_queries(1):
        page = paginate(queryset, cap=3, page=2)
        assert (page.paginator.count, page.paginator.is_capped) == (4, True)
        assert [c.name for c in page] == ["Cesar Meka AB"]  # the third of Alfa, Cesar, Cesar, Delta


def test_the_list_page_says_how_far_it_counted(client_for, meka, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)
    client = client_for(Role.ADVISOR)
    html = client.get("/companies/", {"q": "meka"}).content.decode()
    assert "More than 3 companies" in html
    assert "Alfa Meka AB" in html and "Foxtrot Meka AB" not in html
    html = client.get("/companies/", {"q": "golf"}).content.decode()
    assert "1 company" in html and "More than" not in html
    monkeypatch.setattr(selectors, "LIST_COUNT_CAP", 4)
    assert "More than 4 companies" in client.get("/companies/").content.decode()


def test_the_api_list_counts_up_to_its_cap(client_for, meka, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 3)
    monkeypatch.setattr(selectors, "LIST_COUNT_CAP", 4)
    client = client_for(Role.ADVISOR)
    body = client.get("/api/companies/", {"q": "meka", "limit": 2}).json()
    assert (body["count"], body["count_capped"]) == (3, True)
    assert [c["name"] for c in body["items"]] == ["Alfa Meka AB", "Cesar Meka AB"]
    body = client.get("/api/companies/", {"q": "meka", "limit": 2, "offset": 2}).json()
    assert [c["name"] for c in body["items"]] == ["Cesar Meka AB"]  # a name search stops at its window
    assert client.get("/api/companies/", {"q": "meka", "offset": 3}).json()["items"] == []
    body = client.get("/api/companies/", {"q": "golf"}).json()
    assert (body["count"], body["count_capped"]) == (1, False)
    body = client.get("/api/companies/", {"limit": 3, "offset": 6}).json()
    assert (body["count"], body["count_capped"]) == (4, True)
    assert len(body["items"]) == 3  # other lists page on past the count
    schema = client.get("/api/openapi.json").json()
    assert "count_capped" in str(schema)


def test_the_list_indexes_exist_after_all_migrations():
    """Created with SQL (migration 0004): a table rebuild on SQLite would drop them."""
    from django.db import connection as conn

    with conn.cursor() as cursor:
        constraints = conn.introspection.get_constraints(cursor, "companies_company")
    assert constraints["company_muni_list_idx"]["columns"] == [
        "municipality_id", "name", "id", "status", "sni_primary",
    ]
    assert constraints["company_sni_list_idx"]["columns"] == ["sni_primary", "name", "id", "status"]
    assert constraints["company_name_idx"]["columns"] == ["name", "id", "search_text", "status"]


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
