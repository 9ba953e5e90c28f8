"""Redaction for the review pack: AWS account ids in any form and local absolute paths, in text, in a
snapshot's tables and in every file of a run folder.

**Account ids.** An id the snapshot *knows* — an ``account_id``, a manifest account, or a 12-digit number
found in a text cell of the snapshot (rule below) — becomes its alias (``acct-1``, ``acct-2``, ...) wherever
it is not part of a longer run of digits: plain (``111122223333``), grouped (``1111-2222-3333``,
``1111 2222 3333``), next to ``.``, ``:``, ``/``, ``-``, ``_`` or letters (hosts, ARNs, URLs, bucket and
variable names), after a URL escape (``%3A111122223333``) and inside base64 runs (decoded, redacted, encoded
again). An id the snapshot does not know becomes ``acct-other`` where its context says it is an account: the
account field of an ARN (also URL-encoded), the first path segment after an ``amazonaws.com`` host, a host
label (``210987654321.dkr.ecr...``), the grouped form ``2109-8765-4321``, or after the words account / owner
(``"AccountId": "210987654321"``).

**What is not taken for an id.** Numbers stored as numbers (numeric columns of a snapshot, numbers in its
manifest) are never scanned. A 12-digit run that belongs to a decimal (``0.123456789012``,
``123456789012.5``), to a longer run of digits, to a UUID or to a longer hexadecimal word (hashes, trace ids)
is not collected. In a text cell any other standalone 12-digit run counts as an id: a count written into a
description is masked, since text gives no way to tell it from an id. In rendered files a bare 12-digit number
that the snapshot does not know and whose context does not mark an account is left alone (a page's table of
counts or byte sizes); one that equals a known id is masked (it cannot be told apart).

**Base64.** Runs of 16 or more characters of the standard or the URL-safe alphabet (and the ``/``-separated
pieces of a URL path) are decoded from their first character, two levels deep, redacted, and encoded again in
the same alphabet. A run without a capital letter is skipped: the base64 of twelve digits always holds one
(each three-byte group that starts with a digit encodes to ``M``, ``N`` or ``O``).

**Local paths.** The run folder, the output folder, the snapshot folder, the configuration file, the Python
installation, the checkout, the temporary directory, the working directory and the home directory become,
longest first, ``{run}``, ``{out}``, ``{snapshot}``, ``{config}``, ``{python}``, ``{workbook}``, ``{tmp}``,
``{cwd}`` and ``~`` (also where they appear percent-encoded or inside base64).

Pure text transforms plus :meth:`Redactor.tree`, which rewrites the files of a folder in place.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import gzip
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from . import atomicfile
from .schema import Snapshot

__all__ = ["OTHER", "Redactor", "find_ids", "local_paths"]

#: The alias of an account id that the snapshot does not know.
OTHER = "acct-other"

_BEFORE = r"(?:(?<=%[0-9A-Fa-f]{2})|(?<!\d))"         # not after a digit, except a URL escape's own digits
_SEP = r"(?::|%3[Aa])"
_ARN = re.compile(rf"(arn{_SEP}aws[a-z-]*{_SEP}[a-z0-9-]*{_SEP}[a-z0-9-]*{_SEP})(\d{{12}})(?!\d)")
_URL = re.compile(r"(amazonaws\.com(?:\.cn)?(?::\d+)?(?:/|%2[Ff]))(\d{12})(?!\d)")
_HOST = re.compile(r"(?<!\d)(?<!\d\.)()(\d{12})(?=\.[A-Za-z][A-Za-z0-9-]*\.[A-Za-z0-9-])")
_GROUPED = re.compile(r"(?<![\w-])()(\d{4}-\d{4}-\d{4})(?![\w-])")
_KEYWORD = re.compile(r"((?:account|owner)\w{0,10}[\s\"':=\[(]{0,6})(\d{12})(?!\d)", re.IGNORECASE)
_CONTEXTS = (_ARN, _URL, _HOST, _GROUPED, _KEYWORD)
_STANDALONE = re.compile(_BEFORE + r"(?<!\d\.)(\d{12})(?!\d)(?!\.\d)")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEXWORD = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{16,}(?![0-9a-fA-F])")
_B64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_B64URL = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{16,}={0,2}(?![A-Za-z0-9_=-])")
_DIGITS = re.compile(r"\d{4}")
_ANY_ID = re.compile(r"\d{4}[- ]?\d{4}[- ]?\d{4}")
_B64_DEPTH = 2        # base64 inside base64 inside the text, no deeper
_JSON_SUFFIXES = (".json", ".ipynb")


def _is_text(col: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _b64_decode(run: str, urlsafe: bool) -> bytes | None:
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError):
        return None


def _b64_encode(raw: bytes, like: str, urlsafe: bool) -> str:
    out = (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode("ascii")
    return out if like.endswith("=") else out.rstrip("=")


def _as_text(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _worth_reading(decoded: str, depth: int) -> bool:
    """Whether decoded base64 may hold an id: four digits in a row, or (not too deep) another base64 run."""
    return bool(_DIGITS.search(decoded) or (depth < _B64_DEPTH and (_B64.search(decoded) or _B64URL.search(decoded))))


def _b64_runs(text: str) -> Iterator[tuple[re.Match, bool, str, bytes]]:
    """``(match, urlsafe, piece, decoded)`` for every base64 run of ``text`` that decodes (and, for standard
    runs holding ``/``, each ``/``-separated piece of 16 characters or more, as in URL paths)."""
    for rx, urlsafe in ((_B64, False), (_B64URL, True)):
        for m in rx.finditer(text):
            run = m.group(0)
            if (urlsafe and not ("-" in run or "_" in run)) or run.islower():
                continue   # read by the standard pass; or no capital letter, which base64 of 12 digits always has
            for piece, raw in _decoded_pieces(run, urlsafe):
                yield m, urlsafe, piece, raw


@lru_cache(maxsize=65536)
def _decoded_pieces(run: str, urlsafe: bool) -> tuple[tuple[str, bytes], ...]:
    pieces = [run] + ([p for p in run.split("/") if len(p) >= 16] if not urlsafe and "/" in run else [])
    return tuple((piece, raw) for piece in pieces if (raw := _b64_decode(piece, urlsafe)))


def find_ids(text: str, *, depth: int = 0) -> list[str]:
    """The 12-digit account ids a text cell holds (the collection rule of this module's docstring), in order."""
    if not _DIGITS.search(text) and depth >= _B64_DEPTH:
        return []
    skip = [m.span() for rx in (_UUID, _HEXWORD) for m in rx.finditer(text)
            if rx is _UUID or re.search(r"[a-fA-F]", m.group(0))]
    found = []
    for m in _STANDALONE.finditer(text):
        if not any(a <= m.start(1) and m.end(1) <= b for a, b in skip):
            found.append(m.group(1))
    found += [_digits(m.group(2)) for m in _GROUPED.finditer(text)]
    if depth < _B64_DEPTH:
        for _, _, _, raw in _b64_runs(text):
            decoded, _ = _as_text(raw)
            if _worth_reading(decoded, depth + 1):
                found += find_ids(decoded, depth=depth + 1)
    return list(dict.fromkeys(found))


def local_paths(*, run_dir: str | os.PathLike | None = None, out: str | os.PathLike | None = None,
                snapshot: str | os.PathLike | None = None, config: str | os.PathLike | None = None) -> dict[str, str]:
    """Absolute local paths that a pack must not show, each with its placeholder (more specific names first)."""
    from . import datafiles

    named = [(run_dir, "{run}"), (out, "{out}"), (snapshot, "{snapshot}"), (config, "{config}"),
             (sys.prefix, "{python}"), (sys.exec_prefix, "{python}"), (sys.base_prefix, "{python}"),
             (datafiles.project_root(), "{workbook}"), (tempfile.gettempdir(), "{tmp}"), (Path.cwd(), "{cwd}"),
             (Path.home(), "~")]
    paths: dict[str, str] = {}
    for p, label in named:
        if not p:
            continue
        for v in (os.path.abspath(p), os.path.realpath(p)):
            v = v.rstrip("/\\")
            if len(v) > 1 and v not in paths:
                paths[v] = label
    return paths


@dataclass
class Redactor:
    """Replaces account ids by aliases and local paths by placeholders in any text (see the module docstring).

    ``aliases`` maps 12-digit ids to their aliases; ``paths`` maps absolute paths to placeholders. Picklable:
    the pack hands it to its worker processes.
    """

    aliases: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = [a for a in self.aliases if re.fullmatch(r"\d{12}", a)]
        self._known = re.compile(_BEFORE + "(" + "|".join(
            f"{a[:4]}[- ]?{a[4:8]}[- ]?{a[8:]}" for a in ids) + r")(?!\d)") if ids else None
        variants: dict[str, str] = {}
        for p, label in self.paths.items():
            variants.setdefault(p, label)
            variants.setdefault(quote(p, safe=""), label)
        self._path_labels = variants
        self._paths = re.compile("(" + "|".join(re.escape(p) for p in sorted(variants, key=len, reverse=True))
                                 + r")(?![\w-]|\.\w)") if variants else None

    # -- building -------------------------------------------------------------------------------------------
    @classmethod
    def for_snapshot(cls, snapshot: Snapshot, paths: dict[str, str] | None = None) -> Redactor:
        """Aliases for the snapshot's accounts, then for every other id its text cells and manifest hold."""
        seen = [*map(str, snapshot.accounts), *map(str, snapshot.manifest.get("accounts", []) or [])]
        for text in _strings(snapshot.manifest):
            seen += find_ids(text)
        for df in snapshot.tables.values():
            for col in df.columns:
                if _is_text(df[col]):
                    for value in df[col].dropna().unique():
                        if isinstance(value, str):
                            seen += find_ids(value)
        ids = list(dict.fromkeys(_digits(a) for a in seen if re.fullmatch(r"\d{4}-?\d{4}-?\d{4}", a)))
        return cls({a: f"acct-{i}" for i, a in enumerate(ids, 1)}, dict(paths or {}))

    # -- text -----------------------------------------------------------------------------------------------
    def __call__(self, text: str) -> str:
        return self._text(text, 0)

    def _text(self, text: str, depth: int) -> str:
        if self._paths is not None and any(p in text for p in self._path_labels):
            text = self._paths.sub(lambda m: self._path_labels[m.group(1)], text)
        if depth < _B64_DEPTH:
            text = self._base64(text, depth)
        if not _ANY_ID.search(text):      # one quick scan; most of a CSV of metrics has no 12 digits in a row
            return text
        if self._known is not None:
            text = self._known.sub(lambda m: self.aliases[_digits(m.group(1))], text)
        for rx in _CONTEXTS:
            text = rx.sub(lambda m: m.group(1) + self.aliases.get(_digits(m.group(2)), OTHER), text)
        return text

    def _base64(self, text: str, depth: int) -> str:
        edits: dict[tuple[int, int], str] = {}
        done: dict[tuple[str, bool, str], str | None] = {}      # runs repeat (a CSV column): read each once
        for m, urlsafe, piece, raw in _b64_runs(text):
            if m.span() in edits:
                continue
            key = (m.group(0), urlsafe, piece)
            if key not in done:
                done[key] = None
                decoded, encoding = _as_text(raw)
                if _worth_reading(decoded, depth + 1) or (self._paths is not None and self._paths.search(decoded)):
                    clean = self._text(decoded, depth + 1)
                    if clean != decoded:
                        new = _b64_encode(clean.encode(encoding, errors="replace"), piece, urlsafe)
                        done[key] = m.group(0).replace(piece, new, 1)
            if done[key] is not None:
                edits[m.span()] = done[key]
        for (a, b), new in sorted(edits.items(), reverse=True):
            text = text[:a] + new + text[b:]
        return text

    # -- data -----------------------------------------------------------------------------------------------
    def value(self, value: Any) -> Any:
        """A JSON-like value with every string (and dict key) redacted; numbers equal to a known id too."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self(k) if isinstance(k, str) else k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and str(value) in self.aliases:
            return self.aliases[str(value)]
        return value

    def snapshot(self, snapshot: Snapshot) -> Snapshot:
        """A copy of ``snapshot`` with every text column and the manifest's strings redacted (numbers kept)."""
        tables = {}
        for name, df in snapshot.tables.items():
            out = df.copy()
            for col in out.columns:
                if _is_text(out[col]):
                    uniques = [v for v in out[col].dropna().unique() if isinstance(v, str)]
                    mapping = {v: self(v) for v in uniques}
                    changed = {k: v for k, v in mapping.items() if k != v}
                    if changed:
                        out[col] = out[col].map(lambda v, c=changed: c.get(v, v) if isinstance(v, str) else v)
            tables[name] = out
        manifest = json.loads(json.dumps(snapshot.manifest, default=str))
        manifest = self.value(manifest)
        manifest["redacted"] = True
        return dataclasses.replace(snapshot, manifest=manifest, tables=tables)   # keeps whatever else it holds

    # -- files ----------------------------------------------------------------------------------------------
    def file(self, path: str | os.PathLike) -> bool:
        """Redact one file in place (text, JSON, gzip or other bytes); True when it changed."""
        path = Path(path)
        raw = path.read_bytes()
        gz = raw[:2] == b"\x1f\x8b"
        data = gzip.decompress(raw) if gz else raw
        text, encoding = _as_text(data)
        clean = self(text)
        if clean == text:
            return False
        if path.suffix in _JSON_SUFFIXES and encoding == "utf-8":
            clean = self._json_safe(text, clean)
        out = clean.encode(encoding, errors="replace")
        atomicfile.write_bytes(path, gzip.compress(out, mtime=0) if gz else out)
        return True

    def _json_safe(self, text: str, clean: str) -> str:
        """``clean`` if it is still JSON; else the document redacted value by value (a known id written as a
        JSON number becomes its alias as a string)."""
        try:
            json.loads(clean)
            return clean
        except ValueError:
            pass
        try:
            doc = json.loads(text)
        except ValueError:
            return clean
        return json.dumps(self.value(doc), indent=1, ensure_ascii=False) + "\n"

    def tree(self, root: str | os.PathLike, *, skip: Iterable[str | os.PathLike] = ()) -> list[Path]:
        """Redact every file under ``root`` (but ``skip``); returns the files that changed."""
        skipped = {Path(p).resolve() for p in skip}
        changed = []
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and not path.is_symlink() and path.resolve() not in skipped and self.file(path):
                changed.append(path)
        return changed


def _strings(value: Any) -> Iterator[str]:
    """Every string (and dict key) of a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)
