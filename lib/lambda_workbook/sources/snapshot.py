"""Read and write snapshot directories, atomically.

A snapshot is written into a temporary sibling directory and renamed into place only when every file is
complete, so an interrupted write never leaves a half-written snapshot behind. Compressed files are written
with a fixed gzip timestamp so the same tables give byte-identical files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from pathlib import Path

import pandas as pd

from ..schema import TABLES, SchemaError, Snapshot, validate_manifest, validate_tables


def _csv_options(file: str) -> dict:
    return {"compression": {"method": "gzip", "mtime": 0}} if file.endswith(".gz") else {}


def load(path: str | os.PathLike) -> Snapshot:
    """Load and validate a snapshot directory. Errors name the file (and column) at fault."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"snapshot directory {str(root)!r} does not exist")
    manifest_path = root / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"{manifest_path}: missing (not a snapshot directory?)") from None
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{manifest_path}: corrupt JSON ({exc})") from None
    validate_manifest(manifest, str(manifest_path))
    tables, where = {}, {}
    for name, table in TABLES.items():
        file = root / table.file
        where[name] = str(file)
        if not file.exists():
            continue
        try:
            tables[name] = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""],
                                       **_csv_options(table.file))
        except pd.errors.EmptyDataError:
            tables[name] = pd.DataFrame(columns=table.column_names)
        except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
            raise SchemaError(f"{file}: corrupt file ({type(exc).__name__}: {exc})") from None
    return Snapshot(manifest, validate_tables(tables, where), root)


def _write_table(df: pd.DataFrame, file: Path) -> None:
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.to_csv(file, index=False, lineterminator="\n", float_format="%.10g", **_csv_options(file.name))


def save(snapshot: Snapshot, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write ``snapshot`` to ``path`` atomically (temp directory + rename). Returns the final path."""
    dest = Path(path)
    if dest.exists() and not overwrite:
        raise FileExistsError(f"snapshot directory {str(dest)!r} exists (pass overwrite=True to replace it)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tables = validate_tables(snapshot.tables)
    validate_manifest(snapshot.manifest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        tmp.chmod(0o755)
        (tmp / "manifest.json").write_text(json.dumps(snapshot.manifest, indent=2, sort_keys=True, default=str) + "\n",
                                           encoding="utf-8")
        for name, table in TABLES.items():
            df = tables[name]
            if not table.required and df.empty:
                continue
            _write_table(df, tmp / table.file)
        old = None
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            os.rename(dest, old)
        os.rename(tmp, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
