"""Web pages for taking an assessment: who may open what, saving answers, completing, correcting,
and the company's self-assessment through a personal link."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from sim.assessments import forms, rules, services
from sim.assessments.models import Assessment, AssessmentStatus, SelfAssessmentLink
from sim.companies.tests.factories import CompanyFactory, CompanyRepresentativeFactory, ContactFactory
from sim.core.roles import Role

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
ALL_ROLES = [*Role, ANONYMOUS]
VIEWERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR, Role.AUDITOR}
CHANGERS = {Role.ADMIN, Role.PROJECT_MANAGER, Role.ADVISOR}
HTMX = {"HX-Request": "true"}
DM = "digital-maturity"
GI = "sim-growth-interview"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with translation.override("en"):
        yield


@pytest.fixture
def advisor(make_user):
    return make_user(Role.ADVISOR, username="anna")


def start(advisor, company, key=GI, **kwargs) -> Assessment:
    return services.assessment_start(advisor, company, key, **kwargs)


def valid_value(question):
    if question.type == "scale":
        return 3
    if question.type == "single_choice":
        return question.options[0].id
    if question.type == "multiple_choice":
        return [question.options[0].id]
    if question.type in ("number", "money"):
        return str(question.min) if question.min is not None else "1"
    if question.type == "percentage":
        return "50"
    if question.type == "date":
        return "2024-05-01"
    return "Svar"


def answer_required(actor, assessment):
    """Answer every visible required question (repeating: answers can show more of them)."""
    while True:
        assessment.refresh_from_db()
        instrument = assessment.instrument()
        missing = rules.missing_required(instrument, assessment.answers)
        if not missing:
            return assessment
        for qid in missing:
            services.assessment_answer(actor, assessment, qid, valid_value(instrument.question(qid)))


def completed(advisor, company, key=DM) -> Assessment:
    assessment = answer_required(advisor, start(advisor, company, key))
    return services.assessment_complete(advisor, assessment)


def version_of(assessment, qid) -> int:
    assessment.refresh_from_db()
    return int(assessment.answer_versions.get(qid, 0))


def post_answer(client, assessment, qid, value, *, version=None, htmx=True, extra=None, url=None):
    data = {forms.field_name(qid): value, forms.version_name(qid): version_of(assessment, qid) if version is None else version}
    data.update(extra or {})
    url = url or reverse("assessments:answer", args=[assessment.pk, qid])
    return client.post(url, data, headers=HTMX if htmx else {})


@pytest.fixture
def world(advisor):
    company = CompanyFactory(name="Storsjöns Mekaniska AB")
    represented = CompanyFactory(name="Representerat AB")
    draft = start(advisor, company, GI)
    services.assessment_answer(advisor, draft, "ga_ambition", "yes")
    services.assessment_answer(advisor, draft, "ga_vision", "Hemlig vision om uppköp")
    services.assessment_set_details(advisor, draft, notes="Hemlig anteckning om ägarbytet")
    own_draft = start(advisor, represented, DM)
    own_completed = completed(advisor, represented)
    other_completed = completed(advisor, company)
    return {
        "company": company, "represented": represented, "draft": draft, "own_draft": own_draft,
        "own_completed": own_completed, "other_completed": other_completed,
    }


@pytest.fixture
def as_role(client, make_user, world):
    def login(role):
        if role == ANONYMOUS:
            return client
        user = make_user(role)
        if role == Role.COMPANY_REPRESENTATIVE:
            CompanyRepresentativeFactory(user=user, company=world["represented"])
        client.force_login(user)
        client.user = user
        return client

    return login


# --- Who may open what ----------------------------------------------------------------------

# (name, method, url, data, roles allowed, status when allowed)
ENDPOINTS = [
    ("fill", "get", lambda w: reverse("assessments:fill", args=[w["draft"].pk]), None, VIEWERS, 200),
    ("fill-section", "get", lambda w: reverse("assessments:fill-section", args=[w["draft"].pk, "key_figures"]), None,
     VIEWERS, 200),
    ("save-section", "post", lambda w: reverse("assessments:fill-section", args=[w["draft"].pk, "key_figures"]),
     {"q-kf_year": "2024", "version-kf_year": "0"}, CHANGERS, 302),
    ("answer", "post", lambda w: reverse("assessments:answer", args=[w["draft"].pk, "kf_year"]),
     {"q-kf_year": "2024", "version-kf_year": "0"}, CHANGERS, 200),
    ("details", "post", lambda w: reverse("assessments:details", args=[w["draft"].pk]),
     {"phase": "t0", "conducted_on": "2025-02-01", "notes": "x"}, CHANGERS, 302),
    ("complete", "get", lambda w: reverse("assessments:complete", args=[w["draft"].pk]), None, CHANGERS, 200),
    ("correct", "get", lambda w: reverse("assessments:correct", args=[w["other_completed"].pk]), None, CHANGERS, 200),
    ("invite", "get", lambda w: reverse("assessments:invite", args=[w["draft"].pk]), None, CHANGERS, 200),
    ("start", "get", lambda w: reverse("assessments:start", args=[w["company"].pk]), None, CHANGERS, 200),
]


def _expected(role, name, allowed, ok):
    if role == ANONYMOUS:
        return 302
    if role in allowed:
        return ok
    if role == Role.COMPANY_REPRESENTATIVE and name in ("fill", "fill-section"):
        return 404  # may view assessments, but not drafts and not other companies'
    return 403


@pytest.mark.parametrize("role", ALL_ROLES, ids=str)
@pytest.mark.parametrize(("name", "method", "url", "data", "allowed", "ok"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_access(as_role, world, role, name, method, url, data, allowed, ok):
    client = as_role(role)
    response = getattr(client, method)(url(world), data or {}, headers=HTMX if name == "answer" else {})
    assert response.status_code == _expected(role, name, allowed, ok), (name, role)
    if role == ANONYMOUS:
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_a_representative_reads_only_their_own_completed_assessments(as_role, world):
    client = as_role(Role.COMPANY_REPRESENTATIVE)
    own = client.get(reverse("assessments:fill", args=[world["own_completed"].pk]))
    assert own.status_code == 200
    html = own.content.decode()
    assert "Representerat AB" in html
    assert 'name="q-' not in html  # read-only
    assert reverse("assessments:results", args=[world["own_completed"].pk]) in html
    assert reverse("assessments:correct", args=[world["own_completed"].pk]) not in html
    assert client.get(reverse("assessments:fill", args=[world["own_draft"].pk])).status_code == 404
    assert client.get(reverse("assessments:fill", args=[world["other_completed"].pk])).status_code == 404
    assert client.get(reverse("assessments:fill", args=[world["draft"].pk])).status_code == 404

    page = client.get(reverse("companies:detail", args=[world["represented"].pk])).content.decode()
    section = page[page.index('id="assessments"'):]
    assert reverse("assessments:results", args=[world["own_completed"].pk]) in section
    assert reverse("assessments:fill", args=[world["own_draft"].pk]) not in section
    assert reverse("assessments:start", args=[world["represented"].pk]) not in section


def test_an_auditor_reads_answers_but_not_notes_or_free_text(as_role, world):
    client = as_role(Role.AUDITOR)
    html = client.get(reverse("assessments:fill", args=[world["draft"].pk])).content.decode()
    assert "Does the company want to grow" in html
    assert "Yes" in html  # the answer, read-only
    assert 'name="q-' not in html
    assert "Hemlig vision" not in html
    assert "Free-text answer, not shown to you." in html
    assert "Hemlig anteckning" not in html
    assert reverse("assessments:complete", args=[world["draft"].pk]) not in html
    # Changing anything is refused.
    response = post_answer(client, world["draft"], "ga_ambition", "no")
    assert response.status_code == 403
    assert world["draft"].answers["ga_ambition"] == "yes"
    company_page = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    assert reverse("assessments:fill", args=[world["draft"].pk]) in company_page
    assert reverse("assessments:start", args=[world["company"].pk]) not in company_page


def test_the_advisor_sees_notes_and_free_text(client, advisor, world):
    client.force_login(advisor)
    html = client.get(reverse("assessments:fill", args=[world["draft"].pk])).content.decode()
    assert "Hemlig vision om uppköp" in html
    assert "Hemlig anteckning om ägarbytet" in html


def test_unknown_section_and_question_are_404(client, advisor, world):
    client.force_login(advisor)
    draft = world["draft"]
    assert client.get(reverse("assessments:fill-section", args=[draft.pk, "nope"])).status_code == 404
    assert post_answer(client, draft, "dbs_strategy", "3").status_code == 404  # a question of another instrument
    assert client.get(reverse("assessments:fill", args=[99999])).status_code == 404


# --- The company page -----------------------------------------------------------------------


def test_company_page_lists_assessments_with_score_and_start_form(client, advisor, world):
    client.force_login(advisor)
    html = client.get(reverse("companies:detail", args=[world["company"].pk])).content.decode()
    section = html[html.index('<section class="card" id="assessments"'):]
    section = section[: section.index("</section>")]
    done = world["other_completed"]
    assert "SIM growth interview" in section and "Digital maturity" in section
    assert reverse("assessments:fill", args=[world["draft"].pk]) in section
    assert "Continue" in section
    assert reverse("assessments:results", args=[done.pk]) in section
    assert f"{done.overall_score:.1f}" in section
    band = done.instrument().band(done.overall_band).label.en
    assert f"({band})" in section
    assert 'action="{}"'.format(reverse("assessments:start", args=[world["company"].pk])) in section
    assert '<label for="start-instrument">' in section


# --- Starting and filling in ----------------------------------------------------------------


def test_start_then_fill_the_first_section(client, advisor):
    client.force_login(advisor)
    company = CompanyFactory()
    url = reverse("assessments:start", args=[company.pk])
    assert client.post(url, {"instrument": "nope", "phase": "t0", "conducted_on": "2025-01-10"}).status_code == 200
    response = client.post(url, {"instrument": DM, "phase": "follow_up", "conducted_on": "2025-01-10"})
    assessment = company.assessments.get()
    assert response["Location"] == reverse("assessments:fill", args=[assessment.pk])
    assert assessment.phase == "follow_up" and assessment.conducted_on == dt.date(2025, 1, 10)
    assert assessment.led_by == advisor

    html = client.get(response["Location"]).content.decode()
    instrument = assessment.instrument()
    for section in instrument.sections:  # every section in the navigation
        assert section.title.en in html
        assert reverse("assessments:fill-section", args=[assessment.pk, section.id]) in html
    assert 'aria-current="step"' in html
    # The first section's question: a radio group with a legend and a label per option.
    assert "<legend>What is your role in the company?" in html
    assert 'type="radio" name="q-dm_role" id="q-dm_role-0" value="owner_ceo"' in html
    assert '<label for="q-dm_role-0">Owner or managing director</label>' in html
    assert 'hx-post="{}"'.format(reverse("assessments:answer", args=[assessment.pk, "dm_role"])) in html
    assert 'name="version-dm_role" value="0"' in html
    # Enter in a field submits with the form's first submit button: it must be Save, not a Clear button.
    form = html[html.index('<form method="post" action="{}"'.format(
        reverse("assessments:fill-section", args=[assessment.pk, "respondent"]))):]
    first_button = re.search(r"<button[^>]*>", form).group(0)
    assert 'name="save"' in first_button and 'type="submit"' in first_button and "hx-post" not in first_button


def test_scale_questions_show_every_level_with_its_label(client, advisor):
    client.force_login(advisor)
    assessment = start(advisor, CompanyFactory(), DM)
    html = client.get(reverse("assessments:fill-section", args=[assessment.pk, "digital_business_strategy"])).content.decode()
    assert "<legend>To what extent is digitalisation part of the company&#x27;s business strategy?" in html
    assert '<span class="visually-hidden">(required)</span>' in html
    for level in range(6):
        assert f'id="q-dbs_strategy-{level}" value="{level}"' in html
    assert "0 – Digitalisation is not discussed" in html
    assert 'type="checkbox" name="q-dbs_areas"' in html
    assert "Each area gives 15 points" in html  # help text
    assert 'aria-describedby="help-dbs_areas feedback-dbs_areas"' in html


def test_answer_with_htmx_returns_status_version_and_progress(client, advisor):
    client.force_login(advisor)
    assessment = start(advisor, CompanyFactory(), DM)
    response = post_answer(client, assessment, "dbs_strategy", "4")
    assert response.status_code == 200
    assert "HX-Retarget" not in response
    html = response.content.decode()
    assert "Saved" in html and 'class="assessment-saved"' in html
    assert '<input type="hidden" id="version-dbs_strategy" name="version-dbs_strategy" value="1" hx-swap-oob="true">' in html
    assert 'id="assessment-progress"' in html and 'hx-swap-oob="true"' in html
    progress = html[html.index('id="progress-digital_business_strategy"'):]
    assert re.search(r"</span>1/5\s", progress[:600])
    assert "complete" in progress[:800]  # its only required question is answered
    assessment.refresh_from_db()
    assert assessment.answers["dbs_strategy"] == 4 and assessment.answer_versions["dbs_strategy"] == 1

    # Multiple choice: every ticked box is one answer.
    post_answer(client, assessment, "dbs_areas", ["quality", "production"])
    assessment.refresh_from_db()
    assert assessment.answers["dbs_areas"] == ["production", "quality"]


def test_conditional_questions_appear_and_disappear(client, advisor):
    client.force_login(advisor)
    assessment = start(advisor, CompanyFactory(), GI)
    page = client.get(reverse("assessments:fill", args=[assessment.pk])).content.decode()
    assert 'id="question-ga_vision"' not in page

    shown = post_answer(client, assessment, "ga_ambition", "yes")
    assert shown["HX-Retarget"] == "#section-questions" and shown["HX-Reswap"] == "outerHTML"
    html = shown.content.decode()
    assert html.startswith('<div id="section-questions"')
    assert 'id="question-ga_vision"' in html and 'id="question-ga_target_turnover"' in html
    assert 'id="q-ga_ambition-0" value="yes" checked' in html
    assert 'hx-swap-oob="true"' in html  # the progress as well

    post_answer(client, assessment, "ga_vision", "Dubbla omsättningen")
    hidden = post_answer(client, assessment, "ga_ambition", "no")
    assert hidden["HX-Retarget"] == "#section-questions"
    assert 'id="question-ga_vision"' not in hidden.content.decode()
    assessment.refresh_from_db()
    assert assessment.answers["ga_vision"] == "Dubbla omsättningen"  # kept, but hidden and not counted

    # An answer that changes nothing visible only updates its own status.
    same = post_answer(client, assessment, "ga_obstacles", "Kompetens")
    assert "HX-Retarget" not in same


def test_clearing_a_radio_answer_rerenders_the_question(client, advisor):
    client.force_login(advisor)
    assessment = start(advisor, CompanyFactory(), DM)
    post_answer(client, assessment, "dm_role", "production")
    response = post_answer(client, assessment, "dm_role", "production", extra={"clear": "dm_role"})
    assert response["HX-Retarget"] == "#question-dm_role"
    assert "checked" not in response.content.decode().split('id="assessment-progress"')[0]
    assessment.refresh_from_db()
    assert "dm_role" not in assessment.answers


def test_swedish_numbers_are_accepted(client, advisor):
    client.force_login(advisor)
    assessment = start(advisor, CompanyFactory(), GI)
    for raw, stored in [("1 250 000,50", "1250000.5"), ("12\u00a0345", "12345"), ("1,250,000.75", "1250000.75")]:
        response = post_answer(client, assessment, "kf_turnover_sek", raw)
        assert "Saved" in response.content.decode(), raw
        assessment.refresh_from_db()
        assert assessment.answers["kf_turnover_sek"] == stored
    post_answer(client, assessment, "kf_staff_awu", "12,5")
    assessment.refresh_from_db()
    assert assessment.answers["kf_staff_awu"] == "12.5"
    # Shown back in the form with a decimal comma in Swedish.
    with translation.override("sv"):
        client.cookies["django_language"] = "sv"
        html = client.get(reverse("assessments:fill-section", args=[assessment.pk, "key_figures"])).content.decode()
    assert 'value="1 250 000,75"' in html and 'value="12,5"' in html


def test_invalid_answers_show_the_error_and_save_nothing(client, advisor):
    client.force_login(advisor)
    assessment = start(advisor, CompanyFactory(), GI)
    post_answer(client, assessment, "kf_export_share", "40")
    for qid, raw, message in [
        ("kf_turnover_sek", "mycket", "Enter a number"),
        ("kf_export_share", "150", "Enter a value from 0 to 100"),
        ("kf_year", "2024,5", "Enter a whole number"),
        ("kf_staff_awu", "-1", "Enter a value from 0 to 100000 (got -1)"),
    ]:
        response = post_answer(client, assessment, qid, raw)
        assert response.status_code == 200
        html = response.content.decode()
        assert message in html, (qid, html)
        assert 'class="error"' in html and "Saved" not in html
    assessment.refresh_from_db()
    assert assessment.answers == {"kf_export_share": "40"}
    assert assessment.answer_versions == {"kf_export_share": 1}


def test_a_conflicting_change_is_not_saved_silently(advisor, make_user, world):
    assessment = world["draft"]
    first, second = Client(), Client()
    first.force_login(advisor)
    second.force_login(make_user(Role.ADVISOR, username="bengt"))
    # Both open the page while ga_obstacles is unanswered (version 0).
    for client in (first, second):
        assert 'name="version-ga_obstacles" value="0"' in client.get(
            reverse("assessments:fill", args=[assessment.pk])).content.decode()
    assert "Saved" in post_answer(first, assessment, "ga_obstacles", "Brist på folk", version=0).content.decode()
    response = post_answer(second, assessment, "ga_obstacles", "Brist på kapital", version=0)
    html = response.content.decode()
    assert "Someone else changed this answer" in html
    assert "Brist på folk" in html  # the current value, so that the user can decide
    assert "Keep my answer" in html
    assert 'id="version-ga_obstacles" name="version-ga_obstacles" value="1" hx-swap-oob="true"' in html
    assessment.refresh_from_db()
    assert assessment.answers["ga_obstacles"] == "Brist på folk"
    # Keeping theirs: saved with the version they have now seen.
    post_answer(second, assessment, "ga_obstacles", "Brist på kapital", version=1)
    assessment.refresh_from_db()
    assert assessment.answers["ga_obstacles"] == "Brist på kapital"

    # Without JavaScript the whole section shows the conflict too, keeping the typed answer.
    response = second.post(reverse("assessments:fill", args=[assessment.pk]), {
        "q-ga_ambition": "yes", "version-ga_ambition": "1", "q-ga_obstacles": "Tredje", "version-ga_obstacles": "0",
    })
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some answers were not saved" in html and "Someone else changed this answer" in html
    assert ">Tredje</textarea>" in html


def test_the_section_form_works_without_javascript(client, advisor):
    client.force_login(advisor)
    assessment = start(advisor, CompanyFactory(), GI)
    url = reverse("assessments:fill-section", args=[assessment.pk, "key_figures"])
    data = {
        "q-kf_year": "2024", "version-kf_year": "0",
        "q-kf_staff_awu": "många", "version-kf_staff_awu": "0",
        "q-kf_turnover_sek": "15 000 000", "version-kf_turnover_sek": "0",
        "q-kf_export_share": "250", "version-kf_export_share": "0",
        "q-kf_balance_sheet_sek": "", "version-kf_balance_sheet_sek": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some answers were not saved" in html
    assert "Enter a number, for example 1 250 000,50." in html
    assert "Enter a value from 0 to 100 (got 250)" in html
    assert 'value="många"' in html and 'value="250"' in html  # what was typed stays
    assert 'href="#q-kf_staff_awu"' in html  # the summary links to the field
    assessment.refresh_from_db()
    assert assessment.answers == {"kf_year": "2024", "kf_turnover_sek": "15000000"}

    data.update({"q-kf_staff_awu": "14,5", "q-kf_export_share": "25", "version-kf_year": "1",
                 "version-kf_turnover_sek": "1", "next": "1"})
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:fill-section", args=[assessment.pk, "financing"])
    assessment.refresh_from_db()
    assert assessment.answers["kf_staff_awu"] == "14.5" and assessment.answers["kf_export_share"] == "25"
    # Leaving and coming back: the answers are there.
    html = client.get(url).content.decode()
    assert 'value="14.5"' in html and 'value="15 000 000"' in html

    # "Clear answer" of a radio question without JavaScript: the whole section is saved, that one emptied.
    post_answer(client, assessment, "ga_ambition", "yes", htmx=False)
    response = client.post(reverse("assessments:fill", args=[assessment.pk]), {
        "q-ga_ambition": "yes", "version-ga_ambition": "1", "q-ga_obstacles": "Lokaler", "version-ga_obstacles": "0",
        "clear": "ga_ambition",
    })
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert "ga_ambition" not in assessment.answers and assessment.answers["ga_obstacles"] == "Lokaler"


def test_non_htmx_post_to_the_answer_endpoint_redirects(client, advisor):
    client.force_login(advisor)
    assessment = start(advisor, CompanyFactory(), DM)
    response = post_answer(client, assessment, "dm_role", "production", htmx=False)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("assessments:fill-section", args=[assessment.pk, "respondent"]))


def test_details_and_notes(client, advisor, world):
    client.force_login(advisor)
    draft = world["draft"]
    response = client.post(reverse("assessments:details", args=[draft.pk]), {
        "phase": "follow_up", "conducted_on": "2025-03-04", "notes": "Ny anteckning", "section": "financing",
    })
    assert response["Location"] == reverse("assessments:fill-section", args=[draft.pk, "financing"]) + "#details"
    draft.refresh_from_db()
    assert (draft.phase, draft.conducted_on, draft.notes) == ("follow_up", dt.date(2025, 3, 4), "Ny anteckning")
    client.post(reverse("assessments:details", args=[draft.pk]), {"phase": "t0", "conducted_on": "inte ett datum"})
    draft.refresh_from_db()
    assert draft.phase == "follow_up"


# --- Completing, locking, correcting --------------------------------------------------------


def test_complete_lists_missing_required_then_completes_and_locks(client, advisor):
    client.force_login(advisor)
    assessment = start(advisor, CompanyFactory(), DM)
    url = reverse("assessments:complete", args=[assessment.pk])
    page = client.get(url).content.decode()
    assert "6 required questions are not answered" in page
    assert reverse("assessments:fill-section", args=[assessment.pk, "digital_readiness"]) + "#question-dr_technologies" in page

    refused = client.post(url)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "The assessment could not be completed" in html
    assert "Which digital solutions do you use today?" in html
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT

    answer_required(advisor, assessment)
    assert "All required questions are answered." in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:results", args=[assessment.pk])
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.COMPLETED and assessment.overall_score is not None

    # Locked: the page is read-only and the answer endpoint refuses.
    html = client.get(reverse("assessments:fill", args=[assessment.pk])).content.decode()
    assert 'name="q-' not in html and "locked" in html
    assert reverse("assessments:results", args=[assessment.pk]) in html
    assert reverse("assessments:correct", args=[assessment.pk]) in html
    before = dict(assessment.answers)
    refused = post_answer(client, assessment, "dbs_strategy", "0")
    assert refused.status_code == 409 and refused["HX-Refresh"] == "true"
    section = client.post(reverse("assessments:fill-section", args=[assessment.pk, "digital_business_strategy"]),
                          {"q-dbs_strategy": "0", "version-dbs_strategy": "1"})
    assert section.status_code == 302
    assessment.refresh_from_db()
    assert assessment.answers == before
    assert "already completed" in client.get(url).content.decode()


def test_correct_with_a_reason_opens_a_revision(client, advisor, world):
    client.force_login(advisor)
    original = world["other_completed"]
    url = reverse("assessments:correct", args=[original.pk])
    refused = client.post(url, {"reason": "   "})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    response = client.post(url, {"reason": "Fel nivå på strategi"})
    revision = Assessment.objects.get(revises=original)
    assert response["Location"] == reverse("assessments:fill", args=[revision.pk])
    html = client.get(response["Location"]).content.decode()
    assert f"correction of assessment no. {original.pk}" in html
    assert "Fel nivå på strategi" in html
    assert 'name="q-dm_role"' in html  # editable again
    # Only one correction at a time.
    again = client.get(url).content.decode()
    assert "already in progress" in again
    # Completing the revision supersedes the original.
    client.post(reverse("assessments:complete", args=[revision.pk]))
    original.refresh_from_db()
    assert original.status == AssessmentStatus.SUPERSEDED
    assert "Superseded by a correction" in client.get(reverse("assessments:fill", args=[original.pk])).content.decode()


# --- Self-assessment through a personal link ------------------------------------------------


@pytest.fixture
def invited(client, advisor, world):
    """An advisor sends a link for a new digital-maturity assessment; returns (assessment, url)."""
    client.force_login(advisor)
    company = world["company"]
    contact = ContactFactory(company=company, name="Karin Lund", email="karin@example.se")
    assessment = start(advisor, company, DM)
    services.assessment_set_details(advisor, assessment, notes="Hemlig rådgivaranteckning")
    response = client.post(reverse("assessments:invite", args=[assessment.pk]), {"contact": contact.pk, "valid_days": "14"})
    assert response.status_code == 200
    html = response.content.decode()
    url = re.search(r'<code class="token-secret" id="self-assessment-url">([^<]+)</code>', html).group(1)
    client.logout()
    return assessment, url


def test_invite_sends_an_email_with_the_link(client, advisor, world, invited):
    assessment, url = invited
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["karin@example.se"]
    assert url in message.body and url.startswith("http://testserver/assessments/self/")
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.AWAITING_COMPANY
    client.force_login(advisor)
    html = client.get(reverse("assessments:invite", args=[assessment.pk])).content.decode()
    assert "karin@example.se" in html and "Active" in html
    assert url not in html  # shown once only
    # An e-mail can be typed instead of choosing a contact; one of the two is needed.
    missing = client.post(reverse("assessments:invite", args=[assessment.pk]), {"valid_days": "14"})
    assert "Choose a contact or type an e-mail address." in missing.content.decode()
    client.post(reverse("assessments:invite", args=[assessment.pk]), {"email": "vd@example.se", "valid_days": "3"})
    assert mail.outbox[-1].to == ["vd@example.se"]


def test_the_company_fills_in_and_submits_through_the_link(client, advisor, invited):
    assessment, url = invited
    path = url.removeprefix("http://testserver")
    company = Client()  # anonymous
    page = company.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Storsjöns Mekaniska AB" in html and "Digital maturity" in html
    assert "Hemlig rådgivaranteckning" not in html
    assert 'aria-label="Main menu"' not in html
    assert page["Cache-Control"].startswith("no-store") or "no-cache" in page["Cache-Control"]
    secret = path.split("/")[3]
    answer_url = reverse("assessments:self-answer", args=[secret, "dm_role"])
    assert f'hx-post="{answer_url}"' in html

    response = post_answer(company, assessment, "dm_role", "owner_ceo", url=answer_url)
    assert response.status_code == 200 and "Saved" in response.content.decode()
    section_path = reverse("assessments:self-section", args=[secret, "digital_business_strategy"])
    assert section_path in response.content.decode()  # progress links stay on the personal link
    response = company.post(section_path, {"q-dbs_strategy": "2", "version-dbs_strategy": "0", "next": "1"})
    assert response["Location"] == reverse("assessments:self-section", args=[secret, "digital_readiness"])
    assessment.refresh_from_db()
    assert assessment.answers == {"dm_role": "owner_ceo", "dbs_strategy": 2}

    done = company.post(reverse("assessments:self-submit", args=[secret]))
    assert done.status_code == 200
    assert "have been submitted to your advisor" in done.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED
    # The link no longer works.
    gone = company.get(path)
    assert gone.status_code == 404 and "This link no longer works" in gone.content.decode()
    assert post_answer(company, assessment, "dm_role", "production", url=answer_url).status_code == 404

    # The advisor reviews and completes it.
    client.force_login(advisor)
    html = client.get(reverse("assessments:fill", args=[assessment.pk])).content.decode()
    assert "The company has submitted its answers" in html and 'name="q-dm_role"' in html
    answer_required(advisor, assessment)
    response = client.post(reverse("assessments:complete", args=[assessment.pk]))
    assert response["Location"] == reverse("assessments:results", args=[assessment.pk])
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.COMPLETED


def test_an_expired_link_is_404(invited):
    assessment, url = invited
    SelfAssessmentLink.objects.filter(assessment=assessment).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = Client().get(url.removeprefix("http://testserver"))
    assert response.status_code == 404
    assert "expired" in response.content.decode()


def test_a_link_reaches_only_its_own_assessment(advisor, world, invited):
    assessment, url = invited
    path = url.removeprefix("http://testserver")
    secret = path.split("/")[3]
    company = Client()
    other = world["draft"]  # another assessment (of the same company, with another instrument)
    other.refresh_from_db()
    before = dict(other.answers)
    assert before["ga_ambition"] == "yes"
    # A question id of the other assessment's instrument is unknown here.
    response = company.post(reverse("assessments:self-answer", args=[secret, "ga_ambition"]),
                            {"q-ga_ambition": "no", "version-ga_ambition": "1"}, headers=HTMX)
    assert response.status_code == 404
    # Tampered secrets lead nowhere.
    for bad in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), "x", "a" * 200):
        assert company.get(reverse("assessments:self", args=[bad])).status_code == 404
        assert company.post(reverse("assessments:self-answer", args=[bad, "dm_role"]),
                            {"q-dm_role": "production", "version-dm_role": "0"}).status_code == 404
        assert company.post(reverse("assessments:self-submit", args=[bad])).status_code == 404
    # The advisor's pages stay closed to the link holder.
    assert company.get(reverse("assessments:fill", args=[assessment.pk])).status_code == 302
    assert company.post(reverse("assessments:answer", args=[other.pk, "ga_ambition"]), {"q-ga_ambition": "no"}).status_code == 302
    other.refresh_from_db()
    assert other.answers == before
    assessment.refresh_from_db()
    assert assessment.answers == {}


def test_a_withdrawn_link_stops_working(client, advisor, invited):
    assessment, url = invited
    link = assessment.links.get()
    client.force_login(advisor)
    response = client.post(reverse("assessments:link-revoke", args=[assessment.pk, link.pk]))
    assert response["Location"] == reverse("assessments:invite", args=[assessment.pk])
    assert "Withdrawn" in client.get(response["Location"]).content.decode()
    assert Client().get(url.removeprefix("http://testserver")).status_code == 404
    other = start(advisor, CompanyFactory(), DM)
    assert client.post(reverse("assessments:link-revoke", args=[other.pk, link.pk])).status_code == 404


def test_a_link_stops_working_when_the_advisor_completes_first(advisor, invited):
    assessment, url = invited
    services.assessment_complete(advisor, answer_required(advisor, assessment))
    path = url.removeprefix("http://testserver")
    assert Client().get(path).status_code == 404
    # A page left open: its next save reloads it, to show that the link no longer works.
    response = Client().post(path + "answer/dm_role/", {"q-dm_role": "other", "version-dm_role": "1"}, headers=HTMX)
    assert response.status_code == 404 and response["HX-Refresh"] == "true"


# --- Parsing numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "parsed"), [
    ("1 250 000,50", "1250000.50"),
    ("1\u202f250\u00a0000", "1250000"),
    ("12,5", "12.5"),
    ("12.5", "12.5"),
    ("-3", "-3"),
    ("\u22123,5", "-3.5"),
    ("1.250.000,50", "1250000.50"),
    ("1,250,000.50", "1250000.50"),
    ("1,250,000", "1250000"),
    ("1.250.000", "1250000"),
    ("45 %", "45"),
    ("15 000 kr", "15000"),
    (",5", ".5"),
])
def test_parse_number(typed, parsed):
    assert forms.parse_number(typed) == parsed


@pytest.mark.parametrize("typed", ["abc", "1,2,3", "1..2", "12,5,0", "1e5", "--1", ""])
def test_parse_number_rejects(typed):
    with pytest.raises(forms.AnswerInputError):
        forms.parse_number(typed)


def test_format_number():
    assert forms.format_number("1250000.5", "sv") == "1\u00a0250\u00a0000,5"
    assert forms.format_number("1250000.5", "en", space=" ") == "1 250 000.5"
    assert forms.format_number("-1234", "sv") == "-1234"
    assert forms.format_number("12345", "sv") == "12\u00a0345"
    assert forms.format_number(None, "sv") == ""
