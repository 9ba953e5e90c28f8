"""The review pack: a small batch with a deliberately broken notebook, redaction everywhere, offline pages with one
shared plotly.js, files for tickets, and the planning, options and CLI around it."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lambda_workbook import costs, index_page, pack, params, report, review, sources

PROD, STAGING = "111122223333", "444455556666"
FUNCTIONS = ["inventory-report", "payment-webhook", "staging-users-api"]
SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


def _broken_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    params = nbformat.v4.new_code_cell('results_path = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Broken on purpose"), params,
                nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("raise RuntimeError('deliberately broken for the batch test')"),
                nbformat.v4.new_code_cell("print('never reached')")]
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def small(sample_snapshot):
    return sample_snapshot.subset(sample_snapshot.functions[sample_snapshot.functions["function_name"].isin(FUNCTIONS)])


@pytest.fixture(scope="module")
def built(small, tmp_path_factory):
    """Two account reviews and one deep dive (planned), plus a broken notebook, redacted, in a pool of 2."""
    out = tmp_path_factory.mktemp("pack")
    broken = _broken_notebook(out.parent / "broken.ipynb")

    def with_broken(planned):
        return planned + [pack.Job(str(broken), "A broken notebook", "broken/broken", {}),
                          pack.Job("read_what_you_need", "A refused parameter", "bad/param",
                                   {**planned[-1].parameters, "need": "cheapest"})]

    result = pack.build(loaded=small, jobs=with_broken, out=str(out), run="r1", top=1, functions="inventory-*",
                        deep_dives="read_what_you_need", workers=2, redact=True, progress=False)
    return out, result


def _files(root: Path):
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_broken_notebook_does_not_sink_the_batch(built):
    out, result = built
    by_name = {j.name: j for j in result.jobs if j.out != "bad/param"}
    assert sorted(by_name) == ["account_review", "broken", "read_what_you_need"]
    assert len([j for j in result.jobs if j.name == "account_review"]) == 2
    assert [j.title for j in result.failed] == ["A broken notebook", "A refused parameter"]
    bad = by_name["broken"]
    assert "RuntimeError" in bad.error and "deliberately broken" in bad.error
    for job in result.jobs:
        assert (result.run_dir / f"{job.out}.html").exists(), job.title
    # the failed notebook is kept with papermill's error cell, and the index links straight to it
    nb = nbformat.read(result.run_dir / "broken" / "broken.ipynb", as_version=4)
    assert nb.metadata["papermill"]["exception"] is True
    assert 'id="papermill-error-cell"' in (result.run_dir / "broken" / "broken.html").read_text()
    index = result.index.read_text()
    assert "broken/broken.html#papermill-error-cell" in index
    assert "deliberately broken for the batch test" in index
    assert "3 of 5 rendered" in index
    record = json.loads((result.run_dir / "review.json").read_text())
    assert {n["status"] for n in record["notebooks"]} == {"ok", "failed"}


def test_a_refused_parameter_is_its_one_line_in_the_pack(built):
    """A notebook stopped by params.check shows the check's message, whole, in the failed list and the Reports
    table: no exception name, no traceback."""
    _, result = built
    bad = next(j for j in result.jobs if j.out == "bad/param")
    import ast

    import papermill as pm

    declared = pm.inspect_notebook(str(report.notebook_path("read_what_you_need")))
    values = {k: ast.literal_eval(v["default"]) for k, v in declared.items()}
    with pytest.raises(params.ParameterError) as refused:
        params.check("read_what_you_need", **{**values, **bad.parameters})
    line = str(refused.value)
    assert "'need'" in line and "'cheapest'" in line
    assert bad.status == "failed" and bad.error == line and "\n" not in bad.error
    index = result.index.read_text()
    failed_list = index[index.index("Failed notebooks:"):]
    failed_list = failed_list[:failed_list.index("</p>")]
    reports = index[index.index("<h2>Reports</h2>"):]
    for part in (failed_list, reports):
        assert html.escape(line) in part
    assert "Traceback" not in index and "ParameterError" not in index


def test_every_notebook_wrote_its_results_json(built):
    _, result = built
    for job in result.jobs:
        if job.status != "ok":
            continue
        data = json.loads((result.run_dir / f"{job.out}.results.json").read_text())
        assert data["notebook"] == job.name
    prod = json.loads((result.run_dir / "acct-1" / "us-east-1" / "account_review.results.json").read_text())
    assert prod["accounts"] == ["acct-1"] and prod["findings"]["count"] >= 2
    assert {"dynamodb-scan", "timeout-rate"} <= set(prod["findings"]["by_id"])
    staging = json.loads((result.run_dir / "acct-2" / "us-east-1" / "account_review.results.json").read_text())
    assert staging["findings"]["count"] == 0 and staging["functions"] == 1


def test_redaction_leaves_no_account_id_in_the_pack(built):
    out, result = built
    files = _files(out)
    assert any(p.suffix == ".ipynb" for p in files) and any(p.name == "functions.csv" for p in files)
    twelve = re.compile(r"(?<![\w.-])\d{12}(?![\w.-])")   # not inside request ids or decimals
    arn_account = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:\d{12}")
    for path in files:
        assert not twelve.search(str(path.relative_to(out))), path
        raw = path.read_bytes()
        if path.suffix == ".gz":
            import gzip

            raw = gzip.decompress(raw)
        text = raw.decode("utf-8", errors="replace")
        assert PROD not in text and STAGING not in text, path
        if path.name != pack.PLOTLY_FILE:   # plotly's own code holds 12-digit constants
            assert not arn_account.search(text), (path, arn_account.search(text))
            assert not twelve.search(text), (path, twelve.search(text))
    functions = sources.load_snapshot(result.run_dir / "snapshot").functions
    assert set(functions["account_id"]) == {"acct-1", "acct-2"}
    assert functions["function_arn"].str.contains(":acct-1:function:").any()


def test_pages_load_nothing_from_the_network_and_share_one_plotly(built):
    out, result = built
    shared = result.run_dir / pack.PLOTLY_FILE
    assert shared.stat().st_size > 1_000_000
    pages = [p for p in _files(out) if p.suffix == ".html"]
    assert len(pages) >= 5   # 4 notebook pages, the run's index, the latest index
    with_figures = 0
    for page in pages:
        text = page.read_text()
        assert "plotly.js v" not in text, f"{page} inlines plotly.js"
        assert not re.search(r"<link\b[^>]*href=[\"']?(https?:)?//", text, re.IGNORECASE), page
        assert "unpkg.com" not in text and "cdn.plot.ly" not in text and "cdn.jsdelivr" not in text, page
        srcs = SCRIPT_SRC.findall(text)
        for src in srcs:
            assert not re.match(r"(https?:)?//", src), (page, src)
            assert (page.parent / src).resolve().exists(), (page, src)
        if "plotly-graph-div" in text:
            with_figures += 1
            assert any(Path(s).name == pack.PLOTLY_FILE and (page.parent / s).resolve() == shared.resolve()
                       for s in srcs), page
    assert with_figures >= 3
    assert "Interactive explorer" in (result.run_dir / "acct-1" / "us-east-1" / "inventory-report"
                                      / "read_what_you_need.html").read_text()


def test_index_ranks_findings_by_dollars_with_evidence_and_links(built):
    out, result = built
    index = result.index.read_text()
    ranked = review.rank(result.findings)
    assert ranked.iloc[0]["id"] == "dynamodb-scan"
    listed = index[index.index("id='findings'"):]
    assert listed.index("<code>dynamodb-scan</code>") < listed.index("<code>timeout-rate</code>")
    # risks come first, severity first, and are listed again in the full ranking
    risks = index[index.index("id='risks'"):index.index("id='findings'")]
    assert "<code>timeout-rate</code>" in risks and "<code>dynamodb-scan</code>" not in risks
    assert "acct-1/us-east-1/inventory-report/read_what_you_need.html" in index
    assert "Savings, counted once" in index and "By section" in index and "Spend and savings per service" in index
    for name in ("findings.csv", "findings.md", "findings.json", "review.json"):
        assert (result.run_dir / name).exists() and f"href='{name}'" in index
    assert len(review.load(result.run_dir / "findings.csv")) == len(result.findings)
    # the function column is shown once; the files for outside tools carry the deprecated copy last
    head = listed[listed.index("<tr>"):listed.index("</tr>")]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head).count("function") == 1
    first_row = listed[listed.index("</tr>") + 5:]
    first_row = first_row[:first_row.index("</tr>")]
    assert first_row.count("<td") == head.count("<th")
    csv_head = (result.run_dir / "findings.csv").read_text().splitlines()[0].split(",")
    assert csv_head[-1] == "function" and csv_head.count("function_name") == 1
    top = json.loads((result.run_dir / "findings.json").read_text())["top"]
    assert top and all(r["function"] == r["function_name"] for r in top)
    md = (result.run_dir / "findings.md").read_text()
    assert "Deep dive:** read_what_you_need: acct-1/us-east-1/inventory-report/read_what_you_need.html" in md
    latest = (out / "index.html").read_text()
    assert "r1/acct-1/us-east-1/inventory-report/read_what_you_need.html" in latest
    assert 'src="r1/plotly.min.js"' in latest and "Review runs" in latest


@pytest.fixture(scope="module")
def sample_found(sample_snapshot):
    return review.run(sample_snapshot).findings


def test_every_check_maps_to_the_deep_dive_that_explains_it():
    assert set(pack.DEEP_DIVE_FOR) == set(review.CHECKS)
    assert set(pack.DEEP_DIVE_FOR.values()) <= set(pack.DEEP_DIVES) | {None}
    for fid, nb in {"memory-overprovisioned": "memory", "arm64-candidate": "memory", "cold-starts": "cold_starts",
                    "init-heavy": "cold_starts", "provisioned-concurrency": "cold_starts",
                    "apigw-rest-to-http": "invocation_sources", "batch-size": "invocation_sources",
                    "dynamodb-scan": "read_what_you_need", "s3-whole-object": "read_what_you_need",
                    "timeout-rate": None, "iam-wildcard": None}.items():
        assert pack.DEEP_DIVE_FOR[fid] == nb, fid
    assert pack.deep_dives_for({"iam-wildcard", "init-heavy", "memory-measure"}) == ["memory", "cold_starts"]
    assert pack.deep_dives_for({"timeout-rate"}) == []


def test_plan_gives_each_top_function_exactly_the_deep_dives_its_findings_need(sample_snapshot, sample_found,
                                                                               tmp_path):
    opts = pack.load_options()
    jobs, chosen = pack.plan(sample_snapshot, sample_found, tmp_path, opts, None, tmp_path / "findings.csv")
    accounts = [j for j in jobs if j.kind == "account"]
    assert [(j.account_id, j.parameters["account"]) for j in accounts] == [(PROD, PROD), (STAGING, STAGING)]
    ids = {k: set(g["id"]) for k, g in sample_found.groupby(["account_id", "region", "function_name"])}
    # --top counts functions, and every chosen function has a finding a deep dive explains
    assert len(chosen) == opts["top"] == len(set(chosen["function_name"]))
    planned: dict[str, list[str]] = {}
    for j in jobs:
        if j.kind == "deep-dive":
            planned.setdefault(j.function_name, []).append(j.name)
    for r in chosen.itertuples():
        wanted = pack.deep_dives_for(ids[(r.account_id, r.region, r.function_name)])
        assert wanted and planned.get(r.function_name) == wanted, r.function_name
    assert set(planned) == set(chosen["function_name"])
    # the cold-start archetypes get the cold-starts deep dive with the default options
    for name in ("billing-java", "admin-audit-export"):
        assert "cold_starts" in planned[name], name
    # a function whose findings no notebook explains takes no place in the top N
    unexplained = [k[2] for k, v in ids.items() if not pack.deep_dives_for(v)]
    assert unexplained and not set(unexplained) & set(chosen["function_name"])
    assert all(j.parameters["function"] == j.function_name and j.parameters["source"] == "sample"
               and j.parameters["analysis_path"] == "" for j in jobs if j.kind == "deep-dive")
    few, _ = pack.plan(sample_snapshot, sample_found, tmp_path, pack.load_options(top=2), None, tmp_path / "f.csv",
                       analysis_path=tmp_path / "a.pickle")
    assert len({j.function_name for j in few if j.kind == "deep-dive"}) == 2
    assert {j.parameters["analysis_path"] for j in few} == {str((tmp_path / "a.pickle").resolve())}


def test_named_deep_dives_go_to_every_chosen_function(sample_snapshot, sample_found, tmp_path):
    opts = pack.load_options(top=3, deep_dives="memory")
    jobs, chosen = pack.plan(sample_snapshot, sample_found, tmp_path, opts, None, tmp_path / "findings.csv")
    assert [(j.function_name, j.name) for j in jobs if j.kind == "deep-dive"] == [(f, "memory") for f in chosen["function_name"]]
    by_cost = pack.select_functions(sample_snapshot, sample_found, top=2, rank_by="cost")
    assert list(by_cost["function_name"]) == list(costs.function_costs(sample_snapshot)["function_name"].head(2))
    staging = pack.select_functions(sample_snapshot, sample_found, top=0, pattern="staging-*,*-nomatch")
    assert set(staging["function_name"]) == {"staging-orders-worker", "staging-users-api"}
    with pytest.raises(ValueError, match="no function matches 'nope-\\*'"):
        pack.select_functions(sample_snapshot, sample_found, pattern="nope-*")


def test_the_index_escapes_like_html_escape():
    env = index_page._environment()
    assert env.autoescape
    assert env.from_string("{{ x }}").render(x="<b>'a' & \"b\"") == html.escape("<b>'a' & \"b\"")
    assert (Path(pack.__file__).parent / "templates" / index_page.TEMPLATE).is_file()


def test_redactor_masks_accounts_in_arns_and_urls(sample_snapshot):
    r = pack.Redactor.for_snapshot(sample_snapshot)
    assert r.aliases == {PROD: "acct-1", STAGING: "acct-2"}
    text = (f"arn:aws:lambda:us-east-1:{PROD}:function:x https://sqs.us-east-1.amazonaws.com/{STAGING}/q "
            f"arn:aws:sns:us-east-1:999988887777:other {PROD} 123456789012345 0.123456789012 arn:aws:iam::aws:policy/P")
    out = r(text)
    assert out == ("arn:aws:lambda:us-east-1:acct-1:function:x https://sqs.us-east-1.amazonaws.com/acct-2/q "
                   "arn:aws:sns:us-east-1:acct-other:other acct-1 123456789012345 0.123456789012 "
                   "arn:aws:iam::aws:policy/P")


def test_options_from_yaml_and_command_line(tmp_path):
    cfg = tmp_path / "review.yaml"
    cfg.write_text("source: snapshot\nsnapshot: snaps/prod\ntop: 8\nrank-by: cost\nthresholds:\n  timeout_rate: 0.05\n")
    opts = pack.load_options(cfg, top=3, redact=None)
    assert opts["source"] == "snapshot" and opts["top"] == 3 and opts["rank_by"] == "cost"
    assert opts["thresholds"] == {"timeout_rate": 0.05} and opts["redact"] is False
    cfg.write_text("colour: red\n")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['colour'\]"):
        pack.load_options(cfg)
    with pytest.raises(ValueError, match="rank_by must be one of impact, cost"):
        pack.load_options(rank_by="dollars")
    with pytest.raises(ValueError, match="needs a snapshot directory"):
        pack.load_options(source="snapshot")
    with pytest.raises(ValueError, match=r"unknown review threshold\(s\) \['nope'\]"):
        pack.load_options(thresholds={"nope": 1})
    with pytest.raises(ValueError, match=r"module_thresholds: unknown module\(s\) \['memroy'\]"):
        pack.load_options(module_thresholds={"memroy": {}})
    with pytest.raises(ValueError, match=r"unknown deep dive\(s\) \['bogus'\]"):
        pack.load_options(deep_dives="memory,bogus")


def test_cli_review_writes_the_pack_and_the_latest_index(small, tmp_path):
    snap = sources.save(small.subset(small.functions[small.functions["account_id"] == STAGING]), tmp_path / "snap")
    out = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "lambda_workbook.cli", "review", "--source", "snapshot",
                           "--snapshot", str(snap), "--deep-dives", "none", "--out", str(out), "--run", "cli",
                           "--quiet"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == str((out / "index.html").resolve())
    assert "review pack:" in lines[-2] and "1/1 notebooks" in lines[-2]
    assert (out / "cli" / STAGING / "us-east-1" / "account_review.html").exists()


def test_a_kernel_that_does_not_start_is_retried_once_then_reported(tmp_path):
    nb_path = _broken_notebook(tmp_path / "nokernel.ipynb")
    nb = nbformat.read(nb_path, as_version=4)
    nb.metadata["kernelspec"]["name"] = "no-such-kernel-xyz"
    nbformat.write(nb, nb_path)
    spec = {"notebook": str(nb_path), "ipynb": str(tmp_path / "out" / "k.ipynb"), "html": str(tmp_path / "out" / "k.html"),
            "parameters": {}, "timeout_s": 60, "title": "k", "redact": None, "plotly_src": None}
    result = pack.execute_job(spec)
    assert result["status"] == "failed" and result["attempts"] == 2
    assert "NoSuchKernel" in result["error"]


def test_a_live_scan_is_read_once_and_judged_today(aws_env, tmp_path):
    """--source aws: one scan (against moto) saved into the pack; every notebook reads that copy."""
    import datetime as dt

    result = pack.build(source="aws", profile="prod", region="us-east-1", days=1, deep_dives="none", workers=2,
                        out=str(tmp_path), run="live", progress=False)
    saved = sources.load_snapshot(result.run_dir / "snapshot")
    assert saved.manifest["source"] == "aws" and saved.accounts == [PROD]
    assert [j.status for j in result.jobs] == ["ok"], [j.error for j in result.jobs]
    assert result.jobs[0].parameters["source"] == "snapshot"
    assert result.jobs[0].parameters["snapshot_path"] == str((result.run_dir / "snapshot").resolve())
    record = json.loads((result.run_dir / "review.json").read_text())
    assert record["review"]["as_of"] == str(dt.datetime.now(dt.UTC).date())
    assert record["review"]["as_of_basis"] == "today (live scan)"
    page = json.loads((result.run_dir / PROD / "us-east-1" / "account_review.results.json").read_text())
    assert page["source"] == "aws" and page["functions"] == len(saved.functions)


def test_notebooks_are_submitted_in_rounds_of_kinds_longest_first():
    names = ["account_review", "account_review", "memory", "cold_starts", "invocation_sources", "memory",
             "cold_starts", "read_what_you_need", "cold_starts"]
    jobs = [pack.Job(n, f"{n} {i}", f"x/{i}", {}) for i, n in enumerate(names)]
    order = [j.name for j, _ in pack._submission_order(jobs, [{}] * len(jobs))]
    assert sorted(order) == sorted(names)
    assert order[:5] == ["cold_starts", "memory", "account_review", "invocation_sources", "read_what_you_need"]
    assert order[5:] == ["cold_starts", "memory", "account_review", "cold_starts"]
