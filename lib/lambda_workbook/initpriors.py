"""INIT duration priors: what a function's INIT is assumed to take when its REPORT lines show none.

Pure: a priors document in (``data/coldstarts/init-priors/<YYYY-MM-DD>.json``, the newest wins), a median with a
band out. The documents are fitted by :mod:`lambda_workbook.initfit` on lambda-perf's daily hello-world cold
starts (refresh with ``lambda-workbook priors refresh``); every figure names its source and the months it was
fitted on. Hello-world INIT is a floor: a zipped package's size and a VPC add to it (published heuristics carried
in the same document).
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import datafiles
from .initfit import ARCHS, SCHEMA, SOURCE_KEY, language_key
from .memory import runtime_family

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LANGUAGE_ALIASES = {"c++": "cpp", "golang": "go", "graalvm": "graalvm_java", "dotnet": "dotnet_aot",
                     "quarkus": "quarkus_native"}


def priors_dir() -> Path:
    """The bundled priors folder (``data/coldstarts/init-priors``)."""
    return datafiles.data_dir() / "coldstarts" / "init-priors"


def available(root: str | Path | None = None) -> list[Path]:
    """The dated priors files in ``root`` (default: the bundled folder), oldest first."""
    folder = Path(root) if root else priors_dir()
    return sorted(p for p in folder.glob("*.json") if _DATE.match(p.stem)) if folder.is_dir() else []


def load(path: str | Path) -> dict[str, Any]:
    """One priors document, its schema checked."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {doc.get('schema')!r} is not {SCHEMA}")
    return doc


@lru_cache(maxsize=1)
def priors() -> dict[str, Any]:
    """The newest bundled priors document."""
    files = available()
    if not files:
        raise FileNotFoundError(f"no INIT priors file in {priors_dir()}; write one with: lambda-workbook priors refresh")
    return load(files[-1])


def _choice(value: Any, default: str, allowed: tuple[str, ...], what: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return default
    text = str(value).strip().lower()
    if text not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
    return text


def _version(runtime: str) -> float | None:
    """A runtime id's version as one number (python3.9 -> 3.09, nodejs20.x -> 20, provided.al2023 -> 2023)."""
    if runtime.startswith("provided"):
        return {"provided": 1.0, "provided.al2": 2.0, "provided.al2023": 2023.0}.get(
            runtime, float(re.sub(r"\D", "", runtime) or "nan"))
    nums = re.findall(r"\d+", runtime.replace(".al2", ""))
    if not nums:
        return None
    return int(nums[0]) + (int(nums[1]) / 100 if len(nums) > 1 else 0.0)


def _source(doc: dict[str, Any], entry: dict[str, Any], what: str) -> str:
    src = doc.get("sources", {}).get(entry.get("source", SOURCE_KEY), {})
    return f"{src.get('title', entry.get('source'))} ({src.get('url', '')}): {what}, {entry['months']}"


def _nearest(entries: list[dict[str, Any]], runtime: str, arch: str) -> dict[str, Any] | None:
    v = _version(runtime)
    if v is None or not entries:
        return None
    return min(entries, key=lambda e: (e["arch"] != arch, abs((_version(e["runtime"]) or 0.0) - v),
                                       -(_version(e["runtime"]) or 0.0)))


def _plain(doc, rt, pkg, arch, other) -> tuple[dict[str, Any], str, str, list[str]]:
    table = {(e["runtime"], e["arch"], e["package_type"]): e for e in doc["runtimes"]}
    if (rt, arch, pkg) in table:
        return table[(rt, arch, pkg)], "exact", f"{rt} {arch} {pkg}", []
    if (rt, other, pkg) in table:
        return table[(rt, other, pkg)], "other-arch", f"{rt} {other} {pkg}", [
            f"{rt} on {arch} ({pkg}) is not measured: the {other} figure"]
    family = runtime_family(rt)
    near = _nearest([e for e in doc["runtimes"] if e["package_type"] == pkg and family != "unknown"
                     and runtime_family(e["runtime"]) == family], rt, arch)
    if near is not None:
        return near, "nearest-version", f"{near['runtime']} {near['arch']} {pkg}", [
            f"{rt or 'this runtime'} is not measured: the figure of {near['runtime']} ({near['arch']}), "
            f"the {family} family's nearest measured version"]
    fams = [e for e in doc["families"] if e["family"] == family and e["package_type"] == pkg]
    if fams:
        fam = min(fams, key=lambda e: e["arch"] != arch)
        return fam, "family", f"{family} {fam['arch']} {pkg}", [
            f"{rt or 'this runtime'} is not measured: the {family} family's pooled figure"]
    pooled = [e for e in doc["all_runtimes"] if e["package_type"] == pkg]
    if not pooled:
        raise ValueError(f"this INIT priors file holds no measurement of {pkg} packages")
    broad = min(pooled, key=lambda e: e["arch"] != arch)
    return broad, "all-runtimes", f"every runtime {broad['arch']} {pkg}", [
        f"no INIT measurement for runtime {rt or '(none given)'!r}: the broad band of every measured runtime "
        f"({pkg}, {broad['arch']})"]


def _custom(doc, rt, pkg, arch, language) -> tuple[dict[str, Any], str, str, list[str]] | None:
    lang = _LANGUAGE_ALIASES.get(str(language).strip().lower(), language_key(str(language).strip().lower()))
    rows = [e for e in doc.get("custom_runtime_languages", []) if e["package_type"] == pkg]
    same = [e for e in rows if e["language"] == lang]
    if not same:
        known = ", ".join(sorted({e["language"] for e in rows}))
        return None, f"language {language!r} is not measured on custom runtimes (measured: {known}): the runtime's figure"
    best = min(same, key=lambda e: (e["runtime"] != rt, e["arch"] != arch))
    notes = [] if (best["runtime"], best["arch"]) == (rt, arch) else [
        f"{lang} on {rt} {arch} is not measured: {best['runtime']} {best['arch']}"]
    return (best, "language", f"{lang} on {best['runtime']} {best['arch']} {pkg}", notes), ""


def _snapstart(doc, rt, pkg, arch, other) -> tuple[dict[str, Any], str, str, list[str]]:
    rows = [e for e in doc.get("snapstart", []) if e["package_type"] == pkg]
    table = {(e["runtime"], e["arch"]): e for e in rows}
    if (rt, arch) in table:
        return table[(rt, arch)], "exact", f"{rt} {arch} SnapStart", []
    if (rt, other) in table:
        return table[(rt, other)], "other-arch", f"{rt} {other} SnapStart", [
            f"SnapStart restores of {rt} on {arch} are not measured: the {other} figure"]
    if runtime_family(rt) == "java":
        near = _nearest(rows, rt, arch)
        if near is not None:
            return near, "nearest-version", f"{near['runtime']} {near['arch']} SnapStart", [
                f"SnapStart restores of {rt} are not measured: {near['runtime']}'s, the nearest Java version"]
    pooled = [e for e in doc.get("snapstart_all", []) if e["package_type"] == pkg]
    if not pooled:
        raise ValueError(f"no SnapStart restore measurement for package type {pkg!r} (SnapStart needs a zip package)")
    return pooled[0], "all-runtimes", "every measured SnapStart runtime", [
        f"SnapStart restores of {rt or 'this runtime'} are not measured (lambda-perf measures Java only): "
        "the pooled Java figure"]


def lookup(doc: dict[str, Any], runtime: str | None, package_type: str | None = "Zip", *, arch: str | None = "x86_64",
           snapstart: bool = False, language: str | None = None) -> dict[str, Any]:
    """A hello-world prior from ``doc`` for a runtime id, package type and architecture (no size or VPC added).

    Falls back, saying so in ``notes`` (and ``level``): the same runtime on the other architecture, the family's
    nearest measured version, the family pooled, then the broad band of every runtime. ``language`` (custom
    runtimes ``provided*`` only, e.g. ``rust``, ``go``, ``cpp``) picks that language's measurement.
    """
    pkg = _choice(package_type, "zip", ("zip", "image"), "package_type")
    arch = _choice(arch, "x86_64", ARCHS, "arch")
    other = "arm64" if arch == "x86_64" else "x86_64"
    rt = str(runtime or "").strip().lower()
    notes: list[str] = []
    if snapstart:
        entry, level, what, notes = _snapstart(doc, rt, pkg, arch, other)
        basis = "REPORT Restore Duration (SnapStart) of hello-world functions"
    else:
        found = None
        if language and runtime_family(rt) == "provided":
            found, why = _custom(doc, rt, pkg, arch, language)
            notes += [why] if why else []
        elif language:
            notes.append(f"language {language!r} is used for custom runtimes (provided*) only")
        entry, level, what, more = found or _plain(doc, rt, pkg, arch, other)
        notes += more
        basis = "REPORT Init Duration of hello-world functions"
        if level != "language" and runtime_family(rt) == "provided":
            notes.append("the band spans every language measured there (" + ", ".join(entry["benchmarks"]) + ")")
    return {"median_ms": float(entry["median_ms"]), "low_ms": float(entry["low_ms"]), "high_ms": float(entry["high_ms"]),
            "basis": basis, "sources": [_source(doc, entry, what)], "notes": notes, "level": level}


def init_prior(runtime: str | None, package_type: str = "Zip", code_size_bytes: float = 0.0, *,
               vpc: bool = False, arch: str | None = "x86_64", snapstart: bool = False, language: str | None = None,
               doc: dict[str, Any] | None = None) -> dict[str, Any]:
    """Prior INIT duration (ms) with a low/high band: the hello-world measurement (:func:`lookup`) plus, for zip
    packages, ~103 ms per zipped MiB (measured for Node.js; a heuristic elsewhere), plus the 2020 VPC gap.

    SnapStart gives the Restore Duration instead (no size or VPC effect is published for restores). ``doc``
    defaults to the newest bundled priors file.
    """
    doc = priors() if doc is None else doc
    out = lookup(doc, runtime, package_type, arch=arch, snapstart=snapstart, language=language)
    mid, lo, hi = out["median_ms"], out["low_ms"], out["high_ms"]
    size_mib = max(float(code_size_bytes or 0.0), 0.0) / 2**20
    if snapstart:
        if size_mib >= 1 or vpc:
            out["notes"].append("no published effect of package size or VPC on a SnapStart restore: none added")
    else:
        if str(package_type).lower() != "image":
            size = doc["package_size"]
            extra = size["ms_per_zipped_mib"] * size_mib
            mid, lo, hi = mid + extra, lo + extra * size["low_factor"], hi + extra * size["high_factor"]
            if size_mib > 0:
                out["sources"].append(size["source"])
            if runtime_family(runtime) != "nodejs" and size_mib >= 1:
                out["notes"].append("package-size effect measured for Node.js, applied here as a heuristic")
        if vpc:
            extra = doc["vpc"]["extra_ms"]
            mid, lo, hi = mid + extra, lo + extra, hi + extra
            out["sources"].append(doc["vpc"]["source"])
    out.update(median_ms=float(mid), low_ms=float(lo), high_ms=float(hi))
    return out
