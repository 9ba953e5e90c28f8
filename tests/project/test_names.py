"""One name per concept: a Lambda function's name is ``function_name`` (with ``memory_mb``, ``arch``, ``region``,
``account_id``) in every public signature and every findings or snapshot table. A parameter spelled another way
must be listed below with the reason it does not mean those things; a renamed keyword keeps working, with a
warning, through :mod:`lambda_workbook.renamed`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import warnings
from dataclasses import dataclass

import pytest

import lambda_workbook
from lambda_workbook import coldstarts, findings, reads, renamed, schema, triggers

#: Parameter names that could mean a Lambda function's name: each use must be listed in EXCEPTIONS.
AMBIGUOUS = {"name", "function", "fn", "fn_name", "func", "function_names"}
#: Spellings of memory size and architecture that are never canonical (``memory_mb``, ``arch``).
NEVER = {"memory", "mem", "mem_mb", "memory_size", "size_mb", "architecture", "architectures", "arch_name"}

#: ``module.qualname: parameter`` -> why it is not a Lambda function's name (or memory size / architecture).
EXCEPTIONS = {
    "lambda_workbook.analysis.per_snapshot:fn": "the Python function being memoised",
    "lambda_workbook.cli_common.with_pd_options:fn": "a Python callable run with display options",
    "lambda_workbook.coldstarts.snapshot.exported:fn": "the Python function being named for the memo",
    "lambda_workbook.coldstarts.series.per_minute:name": "the series' label in error messages",
    "lambda_workbook.engine.split.ByFunction.rows:fn": "a function's configuration row or key, not its name",
    "lambda_workbook.engine.relations.relation:name": "a snapshot table's name",
    "lambda_workbook.lazytables.LazyTable:name": "a snapshot table's name (metrics, report_samples, ...)",
    "lambda_workbook.lazytables.TableMap.is_lazy:name": "a snapshot table's name",
    "lambda_workbook.lazytables.TableMap.raw:name": "a snapshot table's name",
    "lambda_workbook.lazytables.frame_relation:name": "a snapshot table's name",
    "lambda_workbook.schema.Snapshot.is_lazy:name": "a snapshot table's name",
    "lambda_workbook.schema.Snapshot.relation:name": "a snapshot table's name",
    "lambda_workbook.schema.typed:name": "a snapshot table's name",
    "lambda_workbook.sources.columnar.folder:name": "a snapshot table's name (its folder)",
    "lambda_workbook.sources.columnar.open_table:name": "a snapshot table's name",
    "lambda_workbook.sources.columnar.checked_record:name": "a snapshot table's name",
    "lambda_workbook.executors.DaskExecutor.everywhere:fn": "the Python callable run as a task",
    "lambda_workbook.executors.DaskExecutor.map:fn": "the Python callable run as a task",
    "lambda_workbook.executors.Executor.everywhere:fn": "the Python callable run as a task",
    "lambda_workbook.executors.Executor.map:fn": "the Python callable run as a task",
    "lambda_workbook.executors.LocalExecutor.map:fn": "the Python callable run as a task",
    "lambda_workbook.sources.aws_org.Gap:name": "an AWS account's name in the Organization",
    "lambda_workbook.sources.aws_org.Member:name": "an AWS account's name in the Organization",
    "lambda_workbook.keepalive.KeepAlive:name": "a keep-alive scenario's name",
    "lambda_workbook.memory.decision.Decision:function": "the function's configuration and observations (a dict)",
    "lambda_workbook.memory.decision.decide:function": "the function's configuration and observations (a dict)",
    "lambda_workbook.notebook_parameters.Declared:name": "a notebook parameter's name",
    "lambda_workbook.reads.limits.check_number:name": "a parameter's name in the error message",
    "lambda_workbook.reads.limits.check_choice:name": "a parameter's name in the error message",
    "lambda_workbook.triggers.workload.check_number:name": "a parameter's name in the error message",
    "lambda_workbook.reads.ranking.sweep:name": "the name of the argument being swept",
    "lambda_workbook.report.notebook_path:name": "a notebook's name",
    "lambda_workbook.report.execute:name": "a notebook's name",
    "lambda_workbook.sample.archetype:name": "a sample archetype's id (the generator writes it as function_name)",
    "lambda_workbook.sample.archetypes.Archetype:name": "a sample archetype's id (written as function_name)",
    "lambda_workbook.schema.Column:name": "a column's name",
    "lambda_workbook.schema.Table:name": "a table's name",
    "lambda_workbook.schema.empty:name": "a table's name",
    "lambda_workbook.schema.Problem.map_text:fn": "a text transform (redaction)",
    "lambda_workbook.sources.aws_common.RegionScan.optional:fn": "a Python callable making AWS calls",
    "lambda_workbook.sources.aws_common.RegionScan.pool:fn": "a Python callable making AWS calls",
    "lambda_workbook.sources.aws_triggers.policy_rows:fn": "a function's configuration (a dict), not its name",
    "lambda_workbook.sources.tune_copy.create_copy:name": "the tuner's temporary copy's name",
    "lambda_workbook.sources.tune_copy.wait_ready:name": "the tuner's copy or the function alike, by AWS name",
    "lambda_workbook.sources.tune_copy.log_group:name": "the tuner's copy or the function alike, by AWS name",
    "lambda_workbook.table_kinds.infer_kind:name": "a column's name",
    "lambda_workbook.table_kinds.label:name": "a column's name",
    "lambda_workbook.table_kinds.pair_text:name": "a row label",
    "lambda_workbook.unpriced.cheapest:name": "the id column's name",
    "lambda_workbook.validation.score.Scores:memory": "the memory findings' score table, not a size",
}

#: Column names that are never canonical in a findings or snapshot table.
NOT_COLUMNS = {"function", "fn", "name", *NEVER}


def _public_callables():
    for info in pkgutil.walk_packages(lambda_workbook.__path__, "lambda_workbook."):
        try:
            mod = importlib.import_module(info.name)
        except ImportError:   # an optional extra that is not installed
            continue
        for attr, obj in vars(mod).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isfunction(obj):
                yield f"{mod.__name__}.{attr}", obj
            elif inspect.isclass(obj):
                yield f"{mod.__name__}.{attr}", obj
                for name, member in vars(obj).items():
                    if inspect.isfunction(member) and not name.startswith("_"):
                        yield f"{mod.__name__}.{attr}.{name}", member


def _parameters():
    seen = {}
    for where, obj in _public_callables():
        try:
            params = inspect.signature(obj).parameters
        except (TypeError, ValueError):
            continue
        seen[where] = list(params)
    return seen


def test_public_signatures_use_the_canonical_names():
    params = _parameters()
    assert len(params) > 300, "the walk found the package's public callables"
    found = {f"{where}:{p}" for where, names in params.items() for p in names if p in AMBIGUOUS | NEVER}
    unexplained = sorted(found - set(EXCEPTIONS))
    assert not unexplained, (f"parameters that may name a Lambda function, its memory or architecture: "
                             f"{unexplained}; call them function_name / memory_mb / arch, or list them in "
                             "EXCEPTIONS with the reason")
    stale = sorted(set(EXCEPTIONS) - found)
    assert not stale, f"EXCEPTIONS lists parameters that no longer exist: {stale}"
    # the known renames: the canonical keyword is in the signature, the old one is not
    for where in ("lambda_workbook.coldstarts.init.init_estimate", "lambda_workbook.coldstarts.function.for_function",
                  "lambda_workbook.coldstarts.series.invocation_series",
                  "lambda_workbook.coldstarts.series.observed_concurrency",
                  "lambda_workbook.triggers.observations.workload_for",
                  "lambda_workbook.triggers.observations.alternatives", "lambda_workbook.reads.calls.patterns",
                  "lambda_workbook.schema.Snapshot.function", "lambda_workbook.schema.Snapshot.for_function",
                  "lambda_workbook.explorers.MemoryExplorer.compute"):
        assert "function_name" in params[where], where


def test_every_rename_is_registered_and_old_names_are_not_canonical():
    assert len(renamed.RENAMED) >= 15
    for where, pairs in renamed.RENAMED.items():
        for new, old in pairs.items():
            assert new in {"function_name", "memory_mb", "arch", "region", "account_id"}, where
            assert old in AMBIGUOUS | NEVER, where


def test_findings_and_snapshot_tables_use_the_canonical_columns():
    tables = {"findings.COLUMNS": findings.COLUMNS, "findings.SPEND_COLUMNS": findings.SPEND_COLUMNS,
              "triggers.FINDING_COLUMNS": triggers.FINDING_COLUMNS, "reads.FINDING_COLUMNS": reads.FINDING_COLUMNS,
              "coldstarts.FINDING_COLUMNS": coldstarts.FINDING_COLUMNS,
              **{f"schema {t.file}": t.column_names for t in schema.TABLES.values()}}
    for where, columns in tables.items():
        bad = sorted(set(columns) & NOT_COLUMNS)
        assert not bad, f"{where} has non-canonical column(s) {bad}"
    for where in ("findings.COLUMNS", "findings.SPEND_COLUMNS", "triggers.FINDING_COLUMNS",
                  "reads.FINDING_COLUMNS", "coldstarts.FINDING_COLUMNS"):
        assert {"account_id", "region", "function_name"} <= set(tables[where]), where
    # the one deprecated column is a copy of a canonical one, added only at the library's public outputs
    assert set(findings.DEPRECATED_ALIASES.values()) <= set(findings.COLUMNS)


# -- the helper ----------------------------------------------------------------------------------------------

@renamed.renamed(function_name="name")
def _lookup(snapshot, function_name, *, region=None):
    return (snapshot, function_name, region)


@renamed.renamed(function_name="function")
@dataclass(frozen=True)
class _Pick:
    function_name: str
    memory_mb: int = 128


def test_an_old_keyword_still_works_with_a_warning_naming_both():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _lookup("s", "orders-api") == ("s", "orders-api", None)          # positional: no warning
        assert _lookup("s", function_name="orders-api", region="r") == ("s", "orders-api", "r")
    with pytest.warns(DeprecationWarning, match="'name' is deprecated, use 'function_name'") as record:
        assert _lookup("s", name="orders-api") == ("s", "orders-api", None)
    assert record[0].filename == __file__, "the warning points at the caller"
    with pytest.raises(TypeError, match="both 'name' \\(deprecated\\) and 'function_name'"):
        _lookup("s", name="a", function_name="b")
    with pytest.warns(DeprecationWarning, match="'function' is deprecated, use 'function_name'"):
        pick = _Pick(function="pdf-render")
    assert pick == _Pick("pdf-render")
    with pytest.warns(DeprecationWarning, match="'function' is deprecated"):
        assert pick.function == "pdf-render"
    with pytest.raises(TypeError, match="has no parameter"):
        renamed.renamed(function_name="name")(lambda name: name)


def test_a_library_function_accepts_its_former_keyword(sample_snapshot):
    row = sample_snapshot.functions.iloc[0]
    with pytest.warns(DeprecationWarning, match="Snapshot.function\\(\\): the keyword 'name'"):
        old = sample_snapshot.function(name=row["function_name"], account_id=row["account_id"])
    assert old.equals(sample_snapshot.function(row["function_name"], account_id=row["account_id"]))
    with pytest.warns(DeprecationWarning, match="'function' is deprecated, use 'function_name'"):
        w = triggers.workload_for(sample_snapshot, function="sqs-worker-batch1")
    assert w == triggers.workload_for(sample_snapshot, function_name="sqs-worker-batch1")
