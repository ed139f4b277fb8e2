"""Pure rules for spotting likely duplicate companies (dubbletter)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

# Legal-form words that do not distinguish one company from another.
_NOISE_WORDS = {
    "ab", "aktiebolag", "aktiebolaget", "publ", "hb", "handelsbolag", "kb", "kommanditbolag", "ek", "för",
    "ekonomisk", "förening", "ef", "enskild", "firma", "i", "likvidation", "konkurs", "the", "and", "och",
    "&", "ltd", "limited", "gmbh", "as", "oy",
}
SIMILARITY_THRESHOLD = 0.88


@dataclass(frozen=True)
class CompanyKey:
    id: int
    name: str
    municipality: str | None
    org_number: str


@dataclass(frozen=True)
class DuplicatePair:
    first: int
    second: int
    reason: str  # "same_name" | "similar_name"
    similarity: float


def normalise_name(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).lower()
    text = re.sub(r"[^\wåäöéü]+", " ", text)
    words = [w for w in text.split() if w not in _NOISE_WORDS]
    return " ".join(words)


def name_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def duplicate_pairs(companies: Iterable[CompanyKey], dismissed: set[tuple[int, int]] = frozenset()) -> list[DuplicatePair]:
    """Pairs in the same municipality with the same or near-identical normalised name.

    Blocking on municipality and the first letters of the name keeps this linear in practice.
    """
    blocks: dict[tuple[str | None, str], list[tuple[CompanyKey, str]]] = defaultdict(list)
    for company in companies:
        norm = normalise_name(company.name)
        if not norm:
            continue
        blocks[(company.municipality, norm[:2])].append((company, norm))
    pairs: list[DuplicatePair] = []
    for members in blocks.values():
        for i, (a, norm_a) in enumerate(members):
            for b, norm_b in members[i + 1:]:
                key = (min(a.id, b.id), max(a.id, b.id))
                if key in dismissed:
                    continue
                if norm_a == norm_b:
                    pairs.append(DuplicatePair(*key, "same_name", 1.0))
                    continue
                similarity = name_similarity(norm_a, norm_b)
                if similarity >= SIMILARITY_THRESHOLD:
                    pairs.append(DuplicatePair(*key, "similar_name", round(similarity, 3)))
    pairs.sort(key=lambda p: (-p.similarity, p.first, p.second))
    return pairs
