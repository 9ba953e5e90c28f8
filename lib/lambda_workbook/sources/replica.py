"""Write :func:`lambda_workbook.sample.replicate`'s plan: DuckDB runs its SQL over the embedded sample account.

The per-minute and per-sample tables stream from the query straight into partitioned Parquet (``COPY``; no row
passes through pandas, DuckDB spills to disk under ``memory_limit``); the small tables (one row per function
or fewer) are fetched, typed and written as CSV. Written into a temporary sibling and renamed into place, as
:func:`.snapshot.save` does.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..lazytables import connect
from ..schema import TABLES, typed
from . import columnar
from .snapshot import _write_table, put_in_place


def write(plan, out: str | os.PathLike, *, overwrite: bool = True, memory_limit: str = "2GB",
          threads: int | None = None) -> Path:
    """Write ``plan`` (a :class:`lambda_workbook.sample.replicate.Plan`) as a Parquet snapshot at ``out``."""
    from . import sample

    dest = Path(out)
    if dest.exists() and not overwrite:
        raise FileExistsError(f"snapshot directory {str(dest)!r} exists (pass overwrite=True to replace it)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    base = sample()
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    con = connect(threads=threads, memory_limit=memory_limit)
    try:
        tmp.chmod(0o755)
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"SET temp_directory = '{tmp / '.spill'}'")
        for name in TABLES:
            con.register("frame", base.tables[name])
            con.execute(f"CREATE TABLE sample_{name} AS SELECT * FROM frame")
            con.unregister("frame")
        rows = {}
        for name, sql in plan.queries.items():
            if name in columnar.COLUMNAR:
                columnar.write_query(con, sql, columnar.folder(tmp, name))
                rows[name] = sum(columnar.row_count(con, f) for f in columnar.files(columnar.folder(tmp, name)))
            else:
                df = typed(con.sql(f"SELECT * FROM ({sql}) ORDER BY ALL").df(), name, f"replica {name}")
                if df.empty and not TABLES[name].required:
                    continue
                _write_table(df, tmp / TABLES[name].file)
                rows[name] = len(df)
        con.close()
        shutil.rmtree(tmp / ".spill", ignore_errors=True)
        checked = columnar.checked_records(tmp, rows)
        manifest = {**plan.manifest, "rows": rows, "format": "parquet", **({"checked": checked} if checked else {})}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n",
                                           encoding="utf-8")
        put_in_place(tmp, dest)
    except BaseException:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
