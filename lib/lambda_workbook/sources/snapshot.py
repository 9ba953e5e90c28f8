"""Read and write snapshot directories, atomically.

Two layouts: ``csv`` (every table one CSV file, gzip-compressed for the large ones) and ``parquet`` (the
per-minute and per-sample tables as hive-partitioned Parquet folders, :mod:`.columnar`, read lazily; the small
tables CSV as before). ``manifest.json`` records the layout (``format``, absent = csv) and each table's rows.
A snapshot is written into a temporary sibling directory and renamed into place only when every file is
complete, so an interrupted write never leaves a half-written snapshot behind. Compressed files are written
with a fixed gzip timestamp so the same tables give byte-identical files. The manifest records each file's data
rows (``rows``), so that loading tells a file cut off at a line boundary from a table that is short. For a
Parquet table with a natural key it also records (``checked``) that key and each file's SHA-256, written after
the duplicate-key check ran on the new files: a load whose files still hash the same skips that scan (the
costliest check on a big snapshot), and any other file gets the full check.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from pathlib import Path

import pandas as pd

from ..lazytables import LazyTable, TableMap, connect
from ..schema import TABLES, Problem, SchemaError, Snapshot, validate_manifest, validate_tables
from . import columnar

FORMATS = ("parquet", "csv")


def _csv_options(file: str) -> dict:
    return {"compression": {"method": "gzip", "mtime": 0}} if file.endswith(".gz") else {}


def load(path: str | os.PathLike) -> Snapshot:
    """Load and check a snapshot directory (see :mod:`lambda_workbook.snapshot_checks`). Every error is one line
    naming the file (and the row, column and function at fault). Parquet tables are checked from their files'
    metadata and stay on disk (:meth:`Snapshot.is_lazy`) until a model reads them."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"snapshot directory {str(root)!r} does not exist: write one with "
                                "`lambda-workbook scan --out DIR`, or review the embedded sample (--source sample)")
    manifest = _read_manifest(root / "manifest.json")
    rows = _recorded_rows(manifest.pop("rows", None), root / "manifest.json")
    fmt = manifest.pop("format", "csv")
    checked = manifest.pop("checked", None)
    checked = checked if isinstance(checked, dict) else {}
    if fmt not in FORMATS:
        raise SchemaError(f"{root / 'manifest.json'}: key 'format': {fmt!r} is not a snapshot layout; allowed: "
                          f"{', '.join(FORMATS)}")
    tables, where, flags = {}, {}, []
    for name, table in TABLES.items():
        file = root / table.file
        where[name] = str(file)
        if name in columnar.COLUMNAR and columnar.folder(root, name).is_dir():
            where[name] = str(columnar.folder(root, name))
            tables[name] = columnar.open_table(columnar.folder(root, name), name, rows.get(name), checked.get(name))
            continue
        if not file.exists():
            if rows.get(name) and not table.required:     # a required one: validate_tables names it
                flags.append(Problem("flag", table.file, f"missing, though manifest.json records {rows[name]} rows "
                                     "for it; the review goes on without them"))
            continue
        tables[name] = _read_table(file, table.file, strict=bool(rows))
        if name in rows and len(tables[name]) != rows[name]:
            raise SchemaError(f"{file}: {len(tables[name])} data rows, but manifest.json records {rows[name]}; the "
                              "file is truncated or was edited (after a deliberate edit, remove 'rows' from "
                              "manifest.json)")
    _check_not_truncated(tables, where, rows)
    snapshot = Snapshot(manifest, tables, root)
    snapshot.flags = flags + snapshot.flags
    return snapshot


def _read_manifest(file: Path) -> dict:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise SchemaError(f"{file}: missing (not a snapshot directory?): give the directory "
                          "`lambda-workbook scan --out` wrote") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{file}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); a manifest "
                          "is a JSON object as lambda-workbook scan writes it") from None
    if not text.strip():
        raise SchemaError(f"{file}: empty ({len(raw)} bytes); a manifest is a JSON object as lambda-workbook scan "
                          "writes it")
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{file}: corrupt JSON ({exc})") from None
    return validate_manifest(manifest, str(file))


def _recorded_rows(rows, file: Path) -> dict[str, int]:
    if rows is None:
        return {}
    if not isinstance(rows, dict) or not all(k in TABLES and isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                             for k, v in rows.items()):
        raise SchemaError(f"{file}: key 'rows': {rows!r} is not a mapping of table names to row counts >= 0")
    return rows


def _read_table(file: Path, name: str, *, strict: bool) -> pd.DataFrame:
    """One table's raw text columns. ``strict`` (a snapshot the workbook wrote): a text file must end its last line."""
    size = file.stat().st_size
    if size == 0:
        raise SchemaError(f"{file}: 0 bytes (truncated?); a table file holds at least its header row")
    if strict and not name.endswith(".gz"):
        with open(file, "rb") as fh:
            fh.seek(size - 1)
            if fh.read(1) != b"\n":
                raise SchemaError(f"{file}: the last line is cut off (no final newline): the file is truncated")
    try:
        return pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], **_csv_options(name))
    except pd.errors.EmptyDataError:
        raise SchemaError(f"{file}: no header row (truncated?); a table file holds at least its header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
        raise SchemaError(f"{file}: corrupt file ({type(exc).__name__}: {exc})") from None


def _check_not_truncated(tables: dict[str, pd.DataFrame], where: dict[str, str], rows: dict[str, int]) -> None:
    """A required table with only its header is truncated unless the manifest records 0 rows for it or
    ``evidence.csv`` says why it is empty; ``functions.csv`` must list a function."""
    functions = tables.get("functions")
    if functions is None:
        return                                    # validate_tables names the missing table
    if functions.empty and "functions" not in rows:
        raise SchemaError(f"{where['functions']}: no functions (only the header row); a snapshot to review lists "
                          "at least one function")
    evidence = tables.get("evidence")
    explained = set(evidence["item"].fillna("").str.split(":").str[0]) if evidence is not None and len(evidence) else set()
    for name, table in TABLES.items():
        df = tables.get(name)
        empty = df is not None and (df.rows == 0 if isinstance(df, LazyTable) else df.empty)
        if (table.required and empty and len(functions) and name not in rows
                and name not in explained):
            raise SchemaError(f"{where[name]}: no rows (only the header row) although functions.csv lists "
                              f"{len(functions)} functions, and evidence.csv does not say why: the file is truncated")


def _write_table(df: pd.DataFrame, file: Path) -> None:
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.to_csv(file, index=False, lineterminator="\n", float_format="%.10g", **_csv_options(file.name))


def save(snapshot: Snapshot, path: str | os.PathLike, *, overwrite: bool = True, format: str | None = None) -> Path:
    """Write ``snapshot`` to ``path`` atomically (temp directory + rename). Returns the final path.

    ``format``: ``"parquet"`` (the tables of :data:`.columnar.COLUMNAR` as partitioned Parquet folders, streamed
    from disk when still lazy) or ``"csv"`` (every table CSV, as the embedded sample); None (the default) is
    parquet when a table of ``snapshot`` is still on disk, else csv."""
    raw = dict(snapshot.tables.raw_items()) if isinstance(snapshot.tables, TableMap) else dict(snapshot.tables)
    if format is None:
        format = "parquet" if any(isinstance(v, LazyTable) for v in raw.values()) else "csv"
    if format not in FORMATS:
        raise ValueError(f"format {format!r} is not a snapshot layout; allowed: {', '.join(FORMATS)}")
    if format == "csv":
        raw = {k: v.to_frame() if isinstance(v, LazyTable) else v for k, v in raw.items()}
    dest = Path(path)
    if dest.exists() and not overwrite:
        raise FileExistsError(f"snapshot directory {str(dest)!r} exists (pass overwrite=True to replace it)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tables = validate_tables(raw)
    validate_manifest(snapshot.manifest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        tmp.chmod(0o755)
        rows = {}
        con = connect() if format == "parquet" else None
        for name, table in TABLES.items():
            df = tables[name]
            n = df.count(con) if isinstance(df, LazyTable) else len(df)
            if not table.required and not n:
                continue
            if con is not None and name in columnar.COLUMNAR:
                if isinstance(df, LazyTable):
                    columnar.write_relation(con, df.relation(con, keep_row=True), columnar.folder(tmp, name))
                else:
                    columnar.write_frame(con, df, columnar.folder(tmp, name))
            else:
                _write_table(df, tmp / table.file)
            rows[name] = n
        checked = columnar.checked_records(tmp, rows) if format == "parquet" else {}
        manifest = {k: v for k, v in snapshot.manifest.items() if k not in ("format", "checked")}
        manifest = {**manifest, "rows": rows, **({"format": format} if format != "csv" else {}),
                    **({"checked": checked} if checked else {})}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n",
                                           encoding="utf-8")
        put_in_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def put_in_place(tmp: Path, dest: Path) -> None:
    """Rename a complete directory ``tmp`` to ``dest``, replacing what was there."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.rename(dest, old)
    os.rename(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
