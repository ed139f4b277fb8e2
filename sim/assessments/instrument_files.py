"""Instrument files: finding, loading, validating and fingerprinting them.

Instruments live in the repository as ``sim/assessments/instruments/<instrument_id>/v<N>.yaml``.
A published version file is never edited: a change is a new file ``v<N+1>.yaml``, and completed
assessments keep pointing at ``(instrument_id, version)``.  :func:`instrument_digest` gives a
fingerprint of a loaded instrument that the database stores next to an assessment, so that a
published file that was edited after all can be detected.

The YAML is read with a strict loader:

* only ``true`` / ``false`` are booleans (YAML 1.1 also turns ``yes``, ``no``, ``on`` and ``off``
  into booleans, which would silently change option ids such as ``no``);
* a key repeated in one mapping is an error (PyYAML would keep the last one silently).

Every problem is reported as an :class:`InstrumentError` naming the file, the path inside it
(``sections[2](financing).questions[0](fin_planning).levels``) and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.assessments.schema import (
    HOOK_PATTERN,
    ID_PATTERN,
    INSTRUMENT_ID_PATTERN,
    Instrument,
    InstrumentProblems,
)

__all__ = [
    "INSTRUMENTS_DIR",
    "InstrumentError",
    "clear_cache",
    "instrument_digest",
    "instrument_ids",
    "latest_version",
    "load_instrument",
    "load_instrument_file",
    "parse_instrument",
    "published_digests",
    "versions",
]

#: Where the instruments shipped with the platform live.
INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"

#: ``{"<instrument_id>/v<N>": "<digest>"}`` of every published version (checked by the tests).
PUBLISHED_FILE_NAME = "published.json"

_VERSION_FILE = re.compile(r"v([1-9][0-9]*)\.yaml")
_INSTRUMENT_ID = re.compile(INSTRUMENT_ID_PATTERN)

# What the id patterns mean, for messages.
_PATTERNS = {
    ID_PATTERN: "must be lower-case letters, digits and underscores, starting with a letter (e.g. fin_planning)",
    INSTRUMENT_ID_PATTERN: "must be lower-case letters and digits in words joined by hyphens (e.g. digital-maturity)",
    HOOK_PATTERN: "must be lower-case words of letters, digits and underscores joined by dots (e.g. key_figures.staff_awu)",
}

# Messages of pydantic error types, rephrased for instrument authors.
_MESSAGES = {
    "missing": "is missing",
    "extra_forbidden": "is not a known field (misspelt?)",
}


class InstrumentError(ValueError):
    """An instrument that cannot be found, read or accepted.

    ``source`` names the file (or ``"<data>"``), ``problems`` lists ``(path, message)`` pairs, one
    per problem (empty for errors that are not about the content, such as an unknown instrument).
    ``str(error)`` gives a readable report with every problem on its own line.
    """

    def __init__(self, message: str, *, source: str | None = None, problems: Iterable[tuple[str, str]] = ()):
        self.message = message
        self.source = source
        self.problems = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        head = f"{self.source}: {self.message}" if self.source else self.message
        if not self.problems:
            return head
        lines = [f"  - {path}: {message}" if path else f"  - {message}" for path, message in self.problems]
        return "\n".join([head, *lines])

    def __reduce__(self):
        return (_rebuild_error, (self.message, self.source, self.problems))


def _rebuild_error(message, source, problems):
    return InstrumentError(message, source=source, problems=problems)


# --------------------------------------------------------------------------------------------
# Strict YAML
# --------------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and an error for repeated keys."""


# Drop the YAML 1.1 boolean resolver (yes/no/on/off/y/n) and accept only true/false.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable key",
                key_node.start_mark,
            ) from None
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found the key {key!r} twice",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstrumentError("file not found", source=str(path)) from None
    except UnicodeDecodeError:
        raise InstrumentError("the file is not UTF-8 text", source=str(path)) from None
    except OSError as exc:
        raise InstrumentError(f"cannot read the file: {exc.strerror or exc}", source=str(path)) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InstrumentError(f"invalid YAML: {exc}", source=str(path)) from None


# --------------------------------------------------------------------------------------------
# Validation with readable paths
# --------------------------------------------------------------------------------------------


def _path(loc: tuple[Any, ...], data: Any) -> str:
    """``('sections', 2, 'questions', 0, 'text', 'en')`` → ``sections[2](financing).questions[0](q1).text.en``.

    After each list index the id of the element (if it has one) is added in parentheses, read from
    the raw data, so that a path can be found in the file without counting.
    """
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            text = f"[{item}]"
            node = node[item] if 0 <= item < len(node) else None
            if isinstance(node, Mapping) and isinstance(node.get("id"), str):
                text += f"({node['id']})"
            if parts:
                parts[-1] += text
            else:
                parts.append(text)
            continue
        if item == "[key]" and parts:
            parts[-1] += " (the key)"
            continue
        parts.append(str(item))
        node = node.get(item) if isinstance(node, Mapping) else None
    return ".".join(parts)


def _problems(error: ValidationError, data: Any) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for item in error.errors(include_url=False):
        loc = tuple(item.get("loc", ()))
        path = _path(loc, data)
        original = (item.get("ctx") or {}).get("error")
        if isinstance(original, InstrumentProblems):
            for sub_path, message in original.problems:
                problems.append((".".join(p for p in (path, sub_path) if p), message))
            continue
        message = _MESSAGES.get(item["type"], item["msg"])
        if item["type"] == "string_pattern_mismatch":
            pattern = (item.get("ctx") or {}).get("pattern")
            message = f"{item['input']!r} {_PATTERNS.get(pattern, item['msg'])}"
        if item["type"] == "missing" and loc and loc[-1] in ("sv", "en"):
            message = "is missing: every text needs both Swedish (sv) and English (en)"
        elif item["type"] == "value_error":
            message = str(original) if original is not None else item["msg"].removeprefix("Value error, ")
        problems.append((path, message))
    return problems


def parse_instrument(data: Any, *, source: str = "<data>") -> Instrument:
    """Validate already-parsed data (a dict as read from YAML) into an :class:`Instrument`."""
    if not isinstance(data, Mapping):
        raise InstrumentError(
            "an instrument file must contain a mapping (id, version, title, ...)", source=source
        )
    try:
        return Instrument.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, data)
        count = len(problems)
        raise InstrumentError(
            f"invalid instrument ({count} problem{'s' if count != 1 else ''})",
            source=source,
            problems=problems,
        ) from None


def load_instrument_file(path: str | Path) -> Instrument:
    """Read and validate one instrument file.

    If the file is named ``v<N>.yaml`` its ``version`` must be ``N``.  (:func:`load_instrument`
    also checks that the ``id`` is the name of the folder.)
    """
    path = Path(path)
    data = _read_yaml(path)
    instrument = parse_instrument(data, source=str(path))
    match = _VERSION_FILE.fullmatch(path.name)
    problems = []
    if match and instrument.version != int(match.group(1)):
        problems.append(("version", f"is {instrument.version} but the file is named {path.name}"))
    if problems:
        raise InstrumentError("the file name does not match its content", source=str(path), problems=problems)
    return instrument


# --------------------------------------------------------------------------------------------
# The repository of instruments
# --------------------------------------------------------------------------------------------


def _root(root: str | Path | None) -> Path:
    return Path(root) if root is not None else INSTRUMENTS_DIR


def _folder(instrument_id: str, root: str | Path | None) -> Path:
    if not isinstance(instrument_id, str) or not _INSTRUMENT_ID.fullmatch(instrument_id):
        raise InstrumentError(
            f"{instrument_id!r} is not a valid instrument id (lower-case letters, digits and hyphens)"
        )
    folder = _root(root) / instrument_id
    if not folder.is_dir() or not _version_numbers(folder):
        known = ", ".join(instrument_ids(root=root)) or "none"
        raise InstrumentError(f"unknown instrument {instrument_id!r} (known instruments: {known})")
    return folder


def _version_numbers(folder: Path) -> list[int]:
    return sorted(
        int(match.group(1))
        for entry in folder.iterdir()
        if entry.is_file() and (match := _VERSION_FILE.fullmatch(entry.name))
    )


def instrument_ids(*, root: str | Path | None = None) -> list[str]:
    """Ids of the instruments that have at least one version file, sorted."""
    base = _root(root)
    if not base.is_dir():
        return []
    return sorted(
        entry.name
        for entry in base.iterdir()
        if entry.is_dir() and _INSTRUMENT_ID.fullmatch(entry.name) and _version_numbers(entry)
    )


def versions(instrument_id: str, *, root: str | Path | None = None) -> list[int]:
    """The version numbers of an instrument, ascending (``InstrumentError`` if it is unknown)."""
    return _version_numbers(_folder(instrument_id, root))


def latest_version(instrument_id: str, *, root: str | Path | None = None) -> int:
    """The highest version number of an instrument."""
    return versions(instrument_id, root=root)[-1]


def load_instrument(
    instrument_id: str, version: int | None = None, *, root: str | Path | None = None
) -> Instrument:
    """Load (and cache) one version of an instrument; the latest when ``version`` is ``None``.

    The result is immutable and shared between callers.  Raises :class:`InstrumentError` for an
    unknown instrument or version and for a file that does not validate.
    """
    folder = _folder(instrument_id, root)
    if version is None:
        version = _version_numbers(folder)[-1]
    elif isinstance(version, bool) or not isinstance(version, int):
        raise InstrumentError(f"the version must be a whole number, not {version!r}")
    return _load_cached(str(folder.resolve()), instrument_id, version)


@lru_cache(maxsize=64)
def _load_cached(folder: str, instrument_id: str, version: int) -> Instrument:
    path = Path(folder) / f"v{version}.yaml"
    if not path.is_file():
        available = ", ".join(map(str, _version_numbers(Path(folder))))
        raise InstrumentError(
            f"instrument {instrument_id!r} has no version {version} (versions: {available})"
        )
    instrument = load_instrument_file(path)
    if instrument.id != instrument_id:
        raise InstrumentError(
            "the file name does not match its content",
            source=str(path),
            problems=[("id", f"is {instrument.id!r} but the file is in the folder {instrument_id!r}")],
        )
    return instrument


def clear_cache() -> None:
    """Forget loaded instruments (tests; a long-running process after files changed)."""
    _load_cached.cache_clear()


# --------------------------------------------------------------------------------------------
# Fingerprint
# --------------------------------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        normal = value.normalize()
        return "0" if normal == 0 else format(normal, "f")
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def instrument_digest(instrument: Instrument) -> str:
    """SHA-256 (hex) of the instrument's canonical JSON.

    Canonical: the validated content with defaults left out, keys sorted, numbers written without
    trailing zeros (``1.0`` and ``1`` are the same).  So comments, key order, quoting and spelling
    out a default do not change the digest; any change of meaning does.  Leaving defaults out also
    keeps digests stable when a later schema adds an optional field.
    """
    data = _canonical(instrument.model_dump(mode="python", by_alias=True, exclude_defaults=True))
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def published_digests(*, root: str | Path | None = None) -> dict[str, str]:
    """The recorded digests of the published versions: ``{"<instrument_id>/v<N>": digest}``.

    ``instruments/published.json`` records the digest of every version file when it is added.
    The test suite checks every file against it, so that editing a published version fails in CI
    (see ``docs/instruments.md``, "Adding a version").
    """
    path = _root(root) / PUBLISHED_FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InstrumentError(f"cannot read the published digests: {exc}", source=str(path)) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise InstrumentError('must map "<instrument_id>/v<N>" to a digest', source=str(path))
    return data
