"""`sim demo` and `sim demo_logins`: the plan (pure) and what gets written (through the services)."""

import io
from collections import Counter
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from sim.companies import demo, rules
from sim.companies.duplicates import CompanyKey, duplicate_pairs
from sim.companies.models import Company, CompanyStatus, Contact, KeyFigures, OwnershipLink
from sim.companies.selectors import companies_visible_to, likely_duplicates, target_group_q
from sim.core.models import AuditEvent
from sim.core.roles import Role, user_roles

N = 60
SEED = 1
# Östersund most, then Krokom, Åre, Strömsund, Härjedalen, Berg, Bräcke, Ragunda.
MUNICIPALITY_ORDER = ["2380", "2309", "2321", "2313", "2361", "2326", "2305", "2303"]


@pytest.fixture
def demo_output(db, monkeypatch):
    # The register alone: other apps' demo steps have their own tests.
    monkeypatch.setattr(demo, "_STEPS", [])
    monkeypatch.setattr(demo, "_discover_steps", lambda: None)
    out = io.StringIO()
    call_command("demo", seed=SEED, companies=N, stdout=out)
    return out.getvalue()


def _own_category(company: Company) -> str:
    """The company's SME category from its own figures, ignoring every ownership link."""
    rate = Decimal(str(settings.SIM_SME_SEK_PER_EUR))
    accounts = tuple(
        rules.Accounts(
            year=f.fiscal_year,
            staff_awu=f.staff_awu,
            turnover_eur=(f.turnover_sek / rate).quantize(Decimal("1")),
            balance_sheet_eur=(f.balance_sheet_sek / rate).quantize(Decimal("1")),
        )
        for f in company.key_figures.order_by("fiscal_year")
    )
    subject = rules.Enterprise(id="x", accounts=accounts)
    return rules.classify_sme("x", [subject], []).category


# --- The plan (no database) -------------------------------------------------------------------


def test_plan_is_deterministic():
    first = demo.plan_demo(SEED, N)
    assert first == demo.plan_demo(SEED, N)
    other = demo.plan_demo(SEED + 1, N)
    assert [c.org_number for c in other.companies] != [c.org_number for c in first.companies]
    assert demo.plan_demo().seed == demo.DEFAULT_SEED == 2019


def test_plan_needs_enough_companies():
    with pytest.raises(ValueError):
        demo.plan_demo(SEED, demo.MIN_COMPANIES - 1)


def test_plan_numbers_are_valid_and_unique():
    plan = demo.plan_demo(SEED, N)
    parsed = [rules.parse_org_number(c.org_number) for c in plan.companies]
    assert len({p.digits for p in parsed}) == N
    groups = Counter(p.legal_form_group for p in parsed)
    assert groups["limited_company"] > N * 0.8
    assert groups["sole_trader"] == 2
    assert groups["public"] == 1


def test_default_plan_has_the_shape_of_a_county_register():
    plan = demo.plan_demo()
    assert len(plan.companies) == 300
    outside = [c for c in plan.companies if not c.in_county]
    assert 15 <= len(outside) <= 25
    per_municipality = Counter(c.municipality for c in plan.companies if c.in_county)
    counts = [per_municipality[code] for code in MUNICIPALITY_ORDER]
    assert counts == sorted(counts, reverse=True) and counts[-1] > 0
    assert sum(1 for c in plan.companies if c.org_number[2:4] < "20") == 3
    assert {c.org_number[:3] for c in plan.companies} >= {"556", "559", "969", "212"}
    # Mostly manufacturing, with manufacturing-adjacent and outside-the-target-group industries too.
    manufacturing = sum(1 for c in plan.companies if "10" <= c.sni_primary[:2] <= "33")
    assert manufacturing > 150
    assert any(c.sni_primary.startswith(("466", "7112", "721", "62")) for c in plan.companies)
    assert any(c.sni_primary.startswith(("47", "55")) for c in plan.companies)
    statuses = Counter(c.status for c in plan.companies)
    assert set(statuses) == set(CompanyStatus.values) and statuses["archived"] < 20
    assert {2022, 2023, 2024} <= {f.fiscal_year for c in plan.companies for f in c.key_figures}
    assert any(f.estimated for c in plan.companies for f in c.key_figures)


def test_plan_flags_only_the_planned_duplicates():
    plan = demo.plan_demo()
    keys = [
        CompanyKey(id=i, name=c.name, municipality=c.municipality, org_number=c.org_number)
        for i, c in enumerate(plan.companies)
        if c.status != CompanyStatus.ARCHIVED
    ]
    flagged = {
        frozenset((plan.companies[p.first].key, plan.companies[p.second].key)) for p in duplicate_pairs(keys)
    }
    planned = {
        frozenset((c.key, c.role.split(":")[1])) for c in plan.companies if c.role.startswith("duplicate_of:")
    }
    assert len(planned) == 3
    assert flagged == planned


def test_plan_contacts_are_at_the_company_domain():
    plan = demo.plan_demo(SEED, N)
    for company in plan.companies:
        assert 1 <= len(company.contacts) <= 3, company.name
        domain = company.email.split("@")[1]
        assert all(contact.email.endswith("@" + domain) for contact in company.contacts)
        assert all(c.consent_date for c in company.contacts if c.legal_basis == "consent")


# --- Writing ----------------------------------------------------------------------------------


def test_demo_writes_the_register_through_the_services(demo_output):
    plan = demo.plan_demo(SEED, N)
    assert "demo-sim-2026" in demo_output
    assert Company.objects.count() == N
    assert Contact.objects.count() == sum(len(c.contacts) for c in plan.companies)
    assert KeyFigures.objects.count() == sum(len(c.key_figures) for c in plan.companies)
    assert OwnershipLink.objects.count() == len(plan.links) >= 5
    for number in Company.objects.values_list("org_number", flat=True):
        rules.parse_org_number(number)
    assert Company.objects.filter(is_sole_trader=True, legal_form="ef").count() == 2
    assert Company.objects.filter(is_public_body=True).count() == 1
    assert Company.objects.filter(is_exempt_investor=True).count() == 1
    assert Company.objects.filter(status=CompanyStatus.ARCHIVED, archived_at__isnull=False).exists()

    in_county = Company.objects.filter(municipality__county_id="23").count()
    assert in_county >= N * 0.85
    assert Company.objects.filter(target_group_q()).count() > N / 2
    assert Company.objects.exclude(target_group_q()).filter(municipality__county_id="23").exists()
    assert Company.objects.exclude(target_group_q()).exclude(municipality__county_id="23").exists()

    # Audited as the demo administrator, source "system".
    events = AuditEvent.objects.filter(object_type="companies.company", action=AuditEvent.Action.CREATE)
    assert events.count() == N
    assert set(AuditEvent.objects.values_list("source", flat=True)) == {AuditEvent.Source.SYSTEM}
    assert set(AuditEvent.objects.values_list("actor__username", flat=True)) == {"admin"}
    assert AuditEvent.objects.filter(object_type="companies.contact").count() == Contact.objects.count()


def test_demo_computes_size_classes_with_groups(demo_output):
    with_class = Company.objects.exclude(size_class="").count()
    assert with_class >= N * 0.8
    assert Company.objects.filter(size_class="large").exists()
    held = Company.objects.filter(owners__isnull=False).distinct()
    raised = [c for c in held if rules.category_rank(c.size_class) > rules.category_rank(_own_category(c))]
    assert raised
    # A municipality holds 34 % of one company: large by the public-body rule alone.
    public_held = Company.objects.get(owners__holder__is_public_body=True)
    assert public_held.size_class == "large"
    assert _own_category(public_held) != "large"
    # The venture-capital investor (35 %) is not a partner: the company keeps its own class.
    vc_held = Company.objects.get(owners__holder__is_exempt_investor=True)
    assert vc_held.size_class == _own_category(vc_held)


def test_demo_users_one_per_role(demo_output):
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in demo.DEMO_USERS])}
    assert len(users) == 8
    roles = set().union(*(user_roles(u) for u in users.values()))
    assert roles == set(Role)
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert len({u.password for u in users.values()}) == 1
    assert users["admin"].check_password(demo.DEMO_PASSWORD)
    assert all(u.email.endswith("@sim-demo.se") and u.get_full_name() for u in users.values())
    assert Role.ADVISOR in user_roles(users["foretagsutvecklare2"])
    assert Company.objects.filter(owner_advisor=users["foretagsutvecklare"]).exists()
    assert Company.objects.filter(owner_advisor=users["foretagsutvecklare2"]).exists()
    visible = companies_visible_to(users["foretag"])
    assert visible.count() == 1
    assert visible.get().contacts.filter(name="Johan Ersson").exists()
    assert companies_visible_to(users["revisor"]).count() == N


def test_written_data_is_the_plan(demo_output):
    plan = demo.plan_demo(SEED, N)
    written = list(Company.objects.order_by("id").values_list("org_number", "name", "municipality_id"))
    assert written == [(c.org_number, c.name, c.municipality) for c in plan.companies]
    figures = KeyFigures.objects.order_by("company_id", "fiscal_year")
    assert [f.turnover_sek for f in figures] == [
        f.turnover_sek for c in plan.companies for f in c.key_figures
    ]
    # The duplicates page has the two planned pairs, nothing else.
    pairs = likely_duplicates()
    assert len(pairs) == 2
    assert all(p["first"].municipality_id == p["second"].municipality_id for p in pairs)


def test_if_empty_does_nothing_when_there_are_companies(demo_output):
    out = io.StringIO()
    call_command("demo", seed=SEED, companies=N, if_empty=True, stdout=out)
    assert Company.objects.count() == N
    assert len(out.getvalue().strip().splitlines()) == 1
    with pytest.raises(CommandError):
        call_command("demo", seed=SEED, companies=N, stdout=io.StringIO())


def test_demo_steps_extend_the_demo(db, monkeypatch):
    monkeypatch.setattr(demo, "_STEPS", [])
    # Not the other apps' steps: importing their modules now would register them in this list only.
    monkeypatch.setattr(demo, "_discover_steps", lambda: None)
    seen = {}

    @demo.demo_step("probe")
    def probe(ctx):
        seen["companies"] = len(ctx.companies)
        seen["draw"] = ctx.rng("probe").random()

    demo.write_demo(demo.plan_demo(SEED, demo.MIN_COMPANIES))
    assert seen["companies"] == demo.MIN_COMPANIES
    assert (
        seen["draw"]
        == demo.DemoContext(demo.plan_demo(SEED, demo.MIN_COMPANIES), None, {}, {}).rng("probe").random()
    )


# --- Order of the steps -------------------------------------------------------------------------


def _step_in(module: str):
    """A step as if defined in `module` (its app decides its place in app order)."""

    def step(ctx):
        return None

    step.__module__ = module
    return step


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(demo, "_STEPS", [])
    monkeypatch.setattr(demo, "_ORDER", {})
    return demo


def test_steps_run_in_app_order_whichever_module_registers_first(registry):
    # Registered late-app first (as when a test imports that module first).
    registry.demo_step("ledger")(_step_in("sim.stateaid.demo"))
    registry.demo_step("routing")(_step_in("sim.activities.demo"))
    registry.demo_step("activities")(_step_in("sim.activities.demo"))
    registry.demo_step("projects")(_step_in("sim.programmes.demo"))
    assert [name for name, _step in registry.ordered_steps()] == ["projects", "routing", "activities", "ledger"]


def test_before_and_after_move_a_step_just_as_far_as_needed(registry):
    registry.demo_step("projects")(_step_in("sim.programmes.demo"))
    registry.demo_step("routing")(_step_in("sim.activities.demo"))
    registry.demo_step("activities")(_step_in("sim.activities.demo"))
    registry.demo_step("finance", after=("routing", "missing-step"))(_step_in("sim.finance.demo"))
    registry.demo_step("rates", before="routing")(_step_in("sim.stateaid.demo"))
    registry.demo_step("ledger", after="routing")(_step_in("sim.stateaid.demo"))
    registry.demo_step("early", before=["projects"], after="nothing")(_step_in("sim.reporting.demo"))
    assert [name for name, _step in registry.ordered_steps()] == [
        "early", "projects", "rates", "routing", "activities", "finance", "ledger"]


def test_an_after_pulls_the_step_it_waits_for_forward(registry):
    registry.demo_step("first", after="late")(_step_in("sim.programmes.demo"))
    registry.demo_step("second")(_step_in("sim.programmes.demo"))
    registry.demo_step("late")(_step_in("sim.reporting.demo"))
    assert [name for name, _step in registry.ordered_steps()] == ["late", "first", "second"]


def test_contradicting_order_is_refused_with_the_steps_named(registry):
    registry.demo_step("a", before="b")(_step_in("sim.programmes.demo"))
    registry.demo_step("b", before="c")(_step_in("sim.programmes.demo"))
    registry.demo_step("c", before="a")(_step_in("sim.programmes.demo"))
    with pytest.raises(ValueError, match="contradict") as refused:
        registry.ordered_steps()
    assert "a before b before c before a" in str(refused.value)
    with pytest.raises(ValueError, match="itself"):
        registry.demo_step("d", after="d")


def test_a_name_registers_once(registry):
    first, second = _step_in("sim.programmes.demo"), _step_in("sim.programmes.demo")
    registry.demo_step("x", before="y")(first)
    registry.demo_step("x")(second)
    registry.demo_step("y")(_step_in("sim.programmes.demo"))
    assert registry.ordered_steps() == [("x", first), ("y", registry._STEPS[1][1])]


def test_write_demo_runs_the_steps_in_their_order(db, registry, monkeypatch):
    monkeypatch.setattr(demo, "_discover_steps", lambda: None)
    seen = []

    def step(name):
        def run(ctx):
            seen.append(name)

        run.__module__ = "sim.programmes.demo"
        return run

    registry.demo_step("second", after="first")(step("second"))
    registry.demo_step("first")(step("first"))
    demo.write_demo(demo.plan_demo(SEED, demo.MIN_COMPANIES))
    assert seen == ["first", "second"]


def test_the_real_steps_are_ordered_for_what_they_need(db):
    demo._discover_steps()
    names = [name for name, _step in demo.ordered_steps()]
    assert names.index("stateaid-rates") < names.index("routing") < names.index("stateaid")
    for needed in ("projects", "assessments", "routing", "activities"):
        assert names.index(needed) < names.index("finance")


def test_demo_logins_lists_users_per_role(demo_output, monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8123/" in text
    for user in demo.DEMO_USERS:
        line = next(line for line in text.splitlines() if line.startswith(user.username + " "))
        assert demo.DEMO_PASSWORD in line and str(user.role.label) in line


def test_demo_logins_without_demo_users(db):
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    assert "sim demo" in out.getvalue()


def test_existing_users_keep_their_password(db):
    User = get_user_model()
    User.objects.create_user("admin", password="a-real-secret-2026", is_superuser=True, is_staff=True)
    out = io.StringIO()
    call_command("demo", seed=SEED, companies=demo.MIN_COMPANIES, stdout=out)
    assert "admin" in out.getvalue().splitlines()[-2]
    assert User.objects.get(username="admin").check_password("a-real-secret-2026")
    assert User.objects.get(username="ekonom").check_password(demo.DEMO_PASSWORD)
    logins = io.StringIO()
    call_command("demo_logins", stdout=logins)
    admin_line = next(line for line in logins.getvalue().splitlines() if line.startswith("admin "))
    assert demo.DEMO_PASSWORD not in admin_line
