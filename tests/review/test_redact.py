"""Redaction that holds: account ids in every form and local paths are gone from every file of a redacted pack
(decoded base64 and gzip included), while numbers that are not ids survive."""

from __future__ import annotations

import base64
import gzip
import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from lambda_workbook import datafiles, pack, sources
from lambda_workbook.redact import OTHER, Redactor, find_ids, local_paths

PROD, STAGING = "111122223333", "444455556666"     # the sample's accounts
FOREIGN = "210987654321"      # another account, only where its context marks it (ARNs, hosts, URLs)
BARE = "777788889999"         # another account, only as a bare number in a description
COUNT = 123456789012          # a 12-digit number in a numeric column: not an id
PLANTED = (PROD, STAGING, FOREIGN, BARE)
NAME = f"inventory-{PROD}-report"


def _grouped(a: str) -> str:
    return f"{a[:4]}-{a[4:8]}-{a[8:]}"


def _b64(text: str, urlsafe: bool = False) -> str:
    raw = text.encode()
    return (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()


# -- text ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def r() -> Redactor:
    return Redactor({PROD: "acct-1", STAGING: "acct-2"})


@pytest.mark.parametrize(("text", "expected"), [
    (f"{PROD}", "acct-1"),
    (f"{_grouped(PROD)}", "acct-1"),
    ("1111 2222 3333", "acct-1"),
    (f"Owned by {PROD}.", "Owned by acct-1."),
    (f"{PROD}.dkr.ecr.us-east-1.amazonaws.com/app:1", "acct-1.dkr.ecr.us-east-1.amazonaws.com/app:1"),
    (f"arn:aws:iam::{PROD}:role/x", "arn:aws:iam::acct-1:role/x"),
    (f"https://sqs.us-east-1.amazonaws.com/{STAGING}/q", "https://sqs.us-east-1.amazonaws.com/acct-2/q"),
    (f"cdk-hnb659fds-assets-{PROD}-us-east-1", "cdk-hnb659fds-assets-acct-1-us-east-1"),
    (f"ACCT_{PROD}_QUEUE", "ACCT_acct-1_QUEUE"),
    (f"arn%3Aaws%3Asqs%3Aus-east-1%3A{PROD}%3Aq", "arn%3Aaws%3Asqs%3Aus-east-1%3Aacct-1%3Aq"),
    (f"a%20{PROD}", "a%20acct-1"),
    # unknown ids, where the context says "account"
    (f"arn:aws:sns:us-east-1:{FOREIGN}:topic", f"arn:aws:sns:us-east-1:{OTHER}:topic"),
    (f"arn%3Aaws%3Asns%3Aus-east-1%3A{FOREIGN}%3Atopic", f"arn%3Aaws%3Asns%3Aus-east-1%3A{OTHER}%3Atopic"),
    (f"{FOREIGN}.dkr.ecr.eu-west-1.amazonaws.com/base", f"{OTHER}.dkr.ecr.eu-west-1.amazonaws.com/base"),
    (f"https://{FOREIGN}.signin.aws.amazon.com/console", f"https://{OTHER}.signin.aws.amazon.com/console"),
    (f"https://sqs.eu-west-1.amazonaws.com/{FOREIGN}/q", f"https://sqs.eu-west-1.amazonaws.com/{OTHER}/q"),
    (f"peer {_grouped(FOREIGN)}.", f"peer {OTHER}."),
    (f'"AccountId": "{FOREIGN}"', f'"AccountId": "{OTHER}"'),
    (f"aws:SourceAccount={FOREIGN}", f"aws:SourceAccount={OTHER}"),
    # not ids: decimals, longer numbers, UUIDs, a bare unknown number in rendered text, AWS-managed ARNs
    ("0.123456789012 and 123456789012.5", "0.123456789012 and 123456789012.5"),
    ("1234567890123 and 123456789012345", "1234567890123 and 123456789012345"),
    ("RequestId: 102eaf4e-7b9b-41c9-a9f4-123456789012", "RequestId: 102eaf4e-7b9b-41c9-a9f4-123456789012"),
    (f"{COUNT} invocations", f"{COUNT} invocations"),
    ("arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
    ("2026-09-14T10:21:07.000+0000", "2026-09-14T10:21:07.000+0000"),
])
def test_every_form_of_an_account_id_is_masked(r, text, expected):
    assert r(text) == expected


def test_base64_runs_are_decoded_redacted_and_encoded_again(r):
    for urlsafe in (False, True):
        for payload in (f"account={PROD};x", f"\xff\xfe{FOREIGN}.dkr.ecr.x.amazonaws.com", PROD,
                        json.dumps({"arn": f"arn:aws:lambda:us-east-1:{STAGING}:function:f"})):
            out = r(f"x {_b64(payload, urlsafe)} y")
            run = out.split()[1]
            decoded = base64.b64decode(run + "=" * (-len(run) % 4), altchars=b"-_" if urlsafe else None)
            text = decoded.decode("utf-8")
            assert not any(a in text for a in PLANTED), (payload, text)
            assert "acct-" in text
    # base64 inside base64 (a data URL holding JSON that holds an encoded id), and binary data left alone
    inner = _b64(f'{{"owner": "{PROD}"}}')
    outer = _b64(f"data:application/json;base64,{inner}")
    assert PROD not in base64.b64decode(base64.b64decode(r(outer)).decode().split(",")[1]).decode()
    binary = base64.b64encode(bytes(range(256))).decode()
    assert r(binary) == binary


def test_local_paths_become_placeholders(tmp_path):
    run = tmp_path / "reports" / "r1"
    paths = local_paths(run_dir=run, out=tmp_path / "reports", snapshot=tmp_path / "snap")
    r = Redactor({}, paths)
    root = str(datafiles.project_root())
    assert r(f"read {run}/findings.csv and {tmp_path}/reports/index.html") == \
        "read {run}/findings.csv and {out}/index.html"
    assert r(f"{tmp_path}/snap/functions.csv") == "{snapshot}/functions.csv"
    assert r(f'File "{root}/lib/lambda_workbook/pack.py"') == 'File "{workbook}/lib/lambda_workbook/pack.py"'
    assert r(f"{sys.prefix}/lib/python3/site.py") == "{python}/lib/python3/site.py"
    assert r(f"{Path.home()}/notes.txt").startswith(("~/", "{"))
    assert r(f"file://{run}/index.html") == "file://{run}/index.html"
    assert r(f"{str(run).replace('/', '%2F')}%2Fx") == "{run}%2Fx"
    sibling = r(f"{tmp_path}/reportsX/y")       # a longer name is not the output folder
    assert "{out}" not in sibling and sibling.endswith("/reportsX/y") and str(tmp_path) not in sibling
    assert r(_b64(f"{run}/x.json")) != _b64(f"{run}/x.json")


# -- what is collected from a snapshot, what is kept -------------------------------------------------------------
def test_ids_are_collected_from_text_cells_but_not_from_numbers(sample_snapshot):
    assert find_ids(f"to {BARE} nightly, trace 1-5759e988-bd862e3fe1be46a994272793, 0.{COUNT}") == [BARE]
    assert find_ids(f"peer {_grouped(FOREIGN)} and {_b64(f'x {STAGING}')}") == [FOREIGN, STAGING]
    assert find_ids("RequestId: 102eaf4e-7b9b-41c9-a9f4-123456789012 hash deadbeef123456789012ab") == []
    snap = _planted(sample_snapshot)
    red = Redactor.for_snapshot(snap)
    assert list(red.aliases)[:2] == [PROD, STAGING] and {FOREIGN, BARE} <= set(red.aliases)
    assert str(COUNT) not in red.aliases
    out = red.snapshot(snap)
    f = out.functions.set_index("function_name")
    name = f"inventory-{red.aliases[PROD]}-report"
    assert name in f.index and f.loc[name, "account_id"] == "acct-1"
    a = red.aliases
    assert f.loc[name, "description"] == _description().replace(PROD, a[PROD]).replace(_grouped(PROD), a[PROD]) \
        .replace(FOREIGN, a[FOREIGN]).replace(_grouped(FOREIGN), a[FOREIGN]).replace(BARE, a[BARE]) \
        .replace(_b64(f"acct={STAGING}"), _b64(f"acct={a[STAGING]}"))
    assert (out.functions["code_size_bytes"] == COUNT).sum() == 1       # the number in a numeric column is kept
    assert out.manifest["redacted"] is True and out.functions["memory_mb"].equals(snap.functions["memory_mb"])


def test_files_json_gzip_and_binary(tmp_path, r):
    js = tmp_path / "x.json"
    js.write_text(json.dumps({"accounts": [int(PROD)], "count": COUNT, "arn": f"arn:aws:s3:::b-{STAGING}"}))
    assert r.file(js)
    assert json.loads(js.read_text()) == {"accounts": ["acct-1"], "count": COUNT, "arn": "arn:aws:s3:::b-acct-2"}
    gz = tmp_path / "t.csv.gz"
    gz.write_bytes(gzip.compress(f"a,b\n{PROD},{COUNT}\n".encode()))
    assert r.file(gz) and gzip.decompress(gz.read_bytes()).decode() == f"a,b\nacct-1,{COUNT}\n"
    same = tmp_path / "clean.txt"
    same.write_text("nothing to see\n")
    assert not r.file(same)
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\x00\xff" + PROD.encode() + b"\xfe")
    assert r.tree(tmp_path, skip=[same]) == [binary]
    assert binary.read_bytes() == b"\x00\xffacct-1\xfe"


# -- a redacted pack with every form planted -------------------------------------------------------------------
def _description() -> str:
    return (f"Image {PROD}.dkr.ecr.us-east-1.amazonaws.com/inventory:1 on {FOREIGN}.dkr.ecr.eu-west-1.amazonaws.com"
            f"/base:2; owned by {_grouped(PROD)}. Peer {_grouped(FOREIGN)}; replicates to {BARE} nightly; token "
            f"{_b64(f'acct={STAGING}')}; bucket cdk-hnb659fds-assets-{PROD}-us-east-1; account {PROD}.")


def _planted(sample):
    """The three functions of the pack tests, with an account id planted in every form and field."""
    keep = ["inventory-report", "payment-webhook", "staging-users-api"]
    snap = sample.subset(sample.functions[sample.functions["function_name"].isin(keep)])
    tables = {}
    for name, df in snap.tables.items():
        df = df.copy()
        if "function_name" in df.columns:
            df["function_name"] = df["function_name"].replace("inventory-report", NAME)
        tables[name] = df
    f = tables["functions"]
    row = f["function_name"] == NAME
    f.loc[row, "function_arn"] = f"arn:aws:lambda:us-east-1:{PROD}:function:{NAME}"
    f.loc[row, "log_group"] = f"/aws/lambda/{NAME}"
    f.loc[row, "description"] = _description()
    f.loc[row, "env_var_names"] = f"LOG_LEVEL;TABLE_NAME;ACCT_{PROD}_QUEUE;PEER{FOREIGN}"
    f.loc[row, "layers"] = f"arn:aws:lambda:us-east-1:{FOREIGN}:layer:shared:3"
    f.loc[row, "layer_count"] = 1
    f.loc[f["function_name"] == "staging-users-api", "code_size_bytes"] = COUNT
    rp = tables["reports"]
    rp.loc[rp["function_name"] == NAME, "log_group"] = f"/aws/lambda/{NAME}"
    tr = tables["triggers"]
    tr.loc[tr["function_name"] == NAME, "detail"] = (
        f"queue arn%3Aaws%3Asqs%3Aus-east-1%3A{FOREIGN}%3Aorders via https://sqs.us-east-1.amazonaws.com/{STAGING}/o")
    samples = tables["report_samples"]
    extra = samples[samples["function_name"] == NAME].head(2).copy()
    extra["message"] = [
        f"ERROR User: arn:aws:sts::{FOREIGN}:assumed-role/r/s is not authorized; account {_grouped(STAGING)} "
        f"via https://{PROD}.signin.aws.amazon.com/console",
        f"INFO event {_b64(json.dumps({'source': f'arn:aws:sqs:us-east-1:{FOREIGN}:q', 'n': BARE}), urlsafe=True)}"]
    tables["report_samples"] = pd.concat([samples, extra], ignore_index=True)
    manifest = json.loads(json.dumps(snap.manifest, default=str))
    manifest["archetypes"] = {(NAME if k == "inventory-report" else k): v
                              for k, v in manifest.get("archetypes", {}).items()}
    manifest["notes"] = [f"scanned from {PROD} with role arn:aws:iam::{FOREIGN}:role/audit"]
    import dataclasses

    return dataclasses.replace(snap, manifest=manifest, tables=tables)


_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")


def _decoded_runs(text: str):
    """Every base64 reading of every run (both alphabets, every alignment): the test's own decoder."""
    for m in _RUN.finditer(text):
        run = m.group(0).rstrip("=")
        for alt in (None, b"-_"):
            for off in range(4):
                body = run[off:]
                body = body[: len(body) - len(body) % 4]
                try:
                    yield base64.b64decode(body, altchars=alt).decode("latin-1")
                except ValueError:
                    continue


@pytest.fixture(scope="module")
def planted_pack(sample_snapshot, tmp_path_factory):
    root = tmp_path_factory.mktemp("redact")
    snap_dir = sources.save(_planted(sample_snapshot), root / "planted-snapshot")
    out = root / "reports"

    def fastest(planned):      # the prod account review and the planted function's memory deep dive
        return [j for j in planned if j.kind == "deep-dive" or j.account_id == "acct-1"]

    result = pack.build(source="snapshot", snapshot=str(snap_dir), out=str(out), run="r1", top=1,
                        functions="inventory-*", deep_dives="memory", workers=2, redact=True, progress=False,
                        jobs=fastest)
    return root, out, result


def test_a_redacted_pack_holds_no_planted_id_and_no_local_path(planted_pack):
    root, out, result = planted_pack
    assert [j.status for j in result.jobs] == ["ok", "ok"], [(j.title, j.error) for j in result.jobs]
    forms = [f for a in PLANTED for f in (a, _grouped(a))]
    local = [str(root), str(root.resolve()), str(datafiles.project_root()), sys.prefix, str(Path.home())]
    local_rx = re.compile("|".join(re.escape(p) + r"(?![\w-])" for p in sorted(set(local), key=len, reverse=True)))
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"functions.csv", "report_samples.csv.gz", "review.json", "findings.csv", "memory.ipynb",
            "memory.html", "account_review.html", "index.html"} <= names, names
    shared = result.run_dir / pack.PLOTLY_FILE
    assert shared.read_bytes() == pack.plotly_source().read_bytes()     # a copy of plotly's bundle, no data
    for path in files:
        rel = str(path.relative_to(out))
        assert not any(f in rel for f in forms), rel
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("latin-1")
        hits = [f for f in forms if f in text]
        assert not hits, (rel, hits, text[max(0, text.find(hits[0]) - 80):text.find(hits[0]) + 40])
        m = local_rx.search(text)
        assert m is None, (rel, text[max(0, m.start() - 80):m.end() + 40])
        if path != shared:
            bad = [f for d in _decoded_runs(text) for f in forms if f in d]
            assert not bad, (rel, "base64", bad)


def test_the_planted_forms_became_aliases_and_numbers_stayed(planted_pack):
    root, out, result = planted_pack
    run = result.run_dir
    snap = sources.load_snapshot(run / "snapshot")
    assert snap.manifest["redacted"] is True
    aliases = set(snap.functions["account_id"])
    assert aliases == {"acct-1", "acct-2"}
    f = snap.functions.set_index("function_name")
    name = "inventory-acct-1-report"
    desc = f.loc[name, "description"]
    assert "acct-1.dkr.ecr.us-east-1.amazonaws.com/inventory:1" in desc and "owned by acct-1." in desc
    assert re.search(r"on acct-\d+\.dkr\.ecr\.eu-west-1", desc) and "replicates to acct-" in desc
    assert f.loc["staging-users-api", "code_size_bytes"] == COUNT      # a number, not an id
    record = json.loads((run / "review.json").read_text())
    assert record["options"]["snapshot"] == "{snapshot}" and record["options"]["out"] == "{out}"
    nb = json.loads((run / "acct-1" / "us-east-1" / name / "memory.ipynb").read_text())
    injected = json.dumps(nb["metadata"].get("papermill", {}))
    assert "{run}/snapshot" in injected and "{run}/acct-1/us-east-1/" in injected
    assert name in (run / "acct-1" / "us-east-1" / name / "memory.html").read_text()
    assert "acct-1" in (out / "index.html").read_text()
