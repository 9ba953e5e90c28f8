"""Inventory: every function's configuration, concurrency, aliases and URLs; execution-role policies.

Environment variables are reduced to their *names* in :func:`function_row`, the first place a Lambda
configuration is read; the values never leave that function.
"""

from __future__ import annotations

import math
import re

from botocore.exceptions import BotoCoreError, ClientError

from .. import iam
from .aws_common import Account, Evidence, RegionScan, classify

_ARN_FUNCTION = re.compile(r"^arn:aws[\w-]*:lambda:([\w-]+):(\d{12}):function:([^:]+)(?::([^:]+))?$")


class ListingFailed(RuntimeError):
    """Functions could not be listed in one account/region (the message names the error)."""


def parse_function_arn(arn: str) -> tuple[str, str, str, str] | None:
    """``(region, account_id, function_name, qualifier)`` of a function ARN, or None."""
    m = _ARN_FUNCTION.match(str(arn or ""))
    return (m.group(1), m.group(2), m.group(3), m.group(4) or "") if m else None


def function_row(account_id: str, region: str, cfg: dict) -> dict:
    """One ``functions`` row from a Lambda FunctionConfiguration. Environment variable values are dropped."""
    env = cfg.pop("Environment", None) or {}
    env_names = list((env.get("Variables") or {}).keys())
    del env
    vpc = cfg.get("VpcConfig") or {}
    logging_cfg = cfg.get("LoggingConfig") or {}
    layers = [layer.get("Arn", "") for layer in cfg.get("Layers") or []]
    name = cfg["FunctionName"]
    return {
        "account_id": account_id, "region": region, "function_name": name,
        "function_arn": cfg.get("FunctionArn", ""),
        "runtime": cfg.get("Runtime") or "",
        "handler": cfg.get("Handler") or "",
        "memory_mb": int(cfg.get("MemorySize") or 128),
        "arch": (cfg.get("Architectures") or ["x86_64"])[0],
        "timeout_s": int(cfg.get("Timeout") or 3),
        "ephemeral_storage_mb": int((cfg.get("EphemeralStorage") or {}).get("Size") or 512),
        "package_type": cfg.get("PackageType") or "Zip",
        "code_size_bytes": int(cfg.get("CodeSize") or 0),
        "layer_count": len(layers),
        "layers": ";".join(layers),
        "vpc_id": vpc.get("VpcId") or "",
        "subnet_count": len(vpc.get("SubnetIds") or []),
        "security_group_count": len(vpc.get("SecurityGroupIds") or []),
        "tracing_mode": (cfg.get("TracingConfig") or {}).get("Mode") or "PassThrough",
        "log_group": logging_cfg.get("LogGroup") or f"/aws/lambda/{name}",
        "log_format": logging_cfg.get("LogFormat") or "Text",
        "role_arn": cfg.get("Role") or "",
        "last_modified": cfg.get("LastModified") or "",
        "state": cfg.get("State") or "",
        "env_var_names": ";".join(env_names),
        "reserved_concurrency": math.nan,
        "provisioned_concurrency": math.nan,
        "aliases": "",
        "function_url_auth": "",
        "description": cfg.get("Description") or "",
    }


def list_functions(rs: RegionScan) -> bool:
    """Fill ``rs.functions`` from ListFunctions (every page). Returns whether any function exists."""
    try:
        configs = list(rs.pages("lambda", "list_functions", "Functions"))
    except (ClientError, BotoCoreError) as exc:
        raise ListingFailed(classify(exc)[1]) from None
    if configs and not rs.account.account_id:
        parsed = parse_function_arn(configs[0].get("FunctionArn", ""))
        if parsed:
            rs.account.account_id = parsed[1]
    rs.functions = [function_row(rs.account_id, rs.region, cfg) for cfg in configs]
    del configs
    return bool(rs.functions)


class _Deleted(Exception):
    pass


def _read(rs: RegionScan, item: str, operation: str, call, row: dict):
    """One per-function read: a missing function means it was deleted during the scan."""
    if operation in rs.disabled:
        return None
    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        if classify(exc)[0] == "not_found":
            raise _Deleted(classify(exc)[1]) from None
        rs.failed(item, exc, row["function_name"])
        return None


def _detail(rs: RegionScan, row: dict) -> dict | None:
    lam = rs.client("lambda")
    name = row["function_name"]
    out = {"concurrency": [], "triggers": []}
    try:
        if not row["state"]:
            cfg = _read(rs, "state", "GetFunctionConfiguration",
                        lambda: lam.get_function_configuration(FunctionName=name), row)
            if cfg:
                cfg.pop("Environment", None)
                row["state"] = cfg.get("State") or ""
        conc = _read(rs, "reserved_concurrency", "GetFunctionConcurrency",
                     lambda: lam.get_function_concurrency(FunctionName=name), row)
        if conc and conc.get("ReservedConcurrentExecutions") is not None:
            row["reserved_concurrency"] = float(conc["ReservedConcurrentExecutions"])
            out["concurrency"].append({**_key(row), "qualifier": "", "kind": "reserved",
                                       "requested": row["reserved_concurrency"], "allocated": math.nan, "status": ""})
        aliases = _read(rs, "aliases", "ListAliases",
                        lambda: list(rs.pages("lambda", "list_aliases", "Aliases", FunctionName=name)), row)
        if aliases:
            row["aliases"] = ";".join(sorted(a["Name"] for a in aliases))
        pcs = _read(rs, "provisioned_concurrency", "ListProvisionedConcurrencyConfigs",
                    lambda: list(rs.pages("lambda", "list_provisioned_concurrency_configs",
                                          "ProvisionedConcurrencyConfigs", FunctionName=name)), row)
        for pc in pcs or []:
            parsed = parse_function_arn(pc.get("FunctionArn", ""))
            out["concurrency"].append({
                **_key(row), "qualifier": parsed[3] if parsed else "", "kind": "provisioned",
                "requested": float(pc.get("RequestedProvisionedConcurrentExecutions") or 0),
                "allocated": float(pc["AllocatedProvisionedConcurrentExecutions"])
                if pc.get("AllocatedProvisionedConcurrentExecutions") is not None else math.nan,
                "status": pc.get("Status") or ""})
        if pcs:
            row["provisioned_concurrency"] = float(sum(
                float(pc.get("RequestedProvisionedConcurrentExecutions") or 0) for pc in pcs))
        urls = _read(rs, "function_urls", "ListFunctionUrlConfigs",
                     lambda: list(rs.pages("lambda", "list_function_url_configs", "FunctionUrlConfigs",
                                           FunctionName=name)), row)
        for url in urls or []:
            auth = url.get("AuthType") or ""
            parsed = parse_function_arn(url.get("FunctionArn", ""))
            if not row["function_url_auth"] or (parsed and not parsed[3]):
                row["function_url_auth"] = auth
            out["triggers"].append({
                **_key(row), "source_type": "function-url", "source_arn": url.get("FunctionArn") or row["function_arn"],
                "sync": True, "batch_size": math.nan,
                "batch_window_s": math.nan, "parallelization": math.nan, "filter_count": 0, "enabled": True,
                "payload_kb": math.nan, "detail": f"function URL, {auth} auth"
                + (f", {url['InvokeMode'].lower()} mode" if url.get("InvokeMode") == "RESPONSE_STREAM" else ""),
                "evidence": "list_function_url_configs"})
    except _Deleted as gone:
        rs.note("function", "skipped", f"deleted during the scan ({gone})", name)
        return None
    return out


def _key(row: dict) -> dict:
    return {"account_id": row["account_id"], "region": row["region"], "function_name": row["function_name"]}


def details(rs: RegionScan) -> None:
    """Per-function reads (state, reserved and provisioned concurrency, aliases, URLs), a few in parallel.

    A function that disappears between the listing and these reads is dropped and noted as skipped.
    """
    rs.progress.add(len(rs.functions))

    def one(row: dict):
        result = _detail(rs, row)
        rs.progress.step(1)
        return result

    results = rs.pool(one, rs.functions)
    kept = []
    for row, result in zip(rs.functions, results, strict=True):
        if result is None:
            continue
        kept.append(row)
        rs.concurrency.extend(result["concurrency"])
        rs.triggers.extend(result["triggers"])
    rs.functions = kept


# -- execution roles (IAM is global: read once per account) -------------------------------------------------
def roles(account: Account, units: list[RegionScan], evidence: Evidence) -> list[dict]:
    """``roles`` rows for every execution role of the account's functions (managed + inline policies).

    Three parallel passes: list each role's policies, read each distinct managed policy once (most roles
    share ``AWSLambdaBasicExecutionRole``), read each inline policy.
    """
    arns = sorted({f["role_arn"] for u in units for f in u.functions if f["role_arn"]})
    if not arns or not units:
        return []
    rs = units[0]
    client = account.client("iam", rs.region)
    acct = account.account_id or ""
    disabled: set[str] = set()

    def attempt(subject: str, operation: str, call):
        if operation in disabled:
            return None
        try:
            return call()
        except (ClientError, BotoCoreError) as exc:
            kind, reason = classify(exc)
            if kind in ("denied", "unsupported"):
                disabled.update({operation, getattr(exc, "operation_name", operation)})
                evidence.add(acct, rs.region, "", "roles", "missing", reason)
            else:
                evidence.add(acct, rs.region, "", "roles", "partial", f"{subject}: {reason}")
            return None

    own = []
    for role_arn in arns:
        parts = role_arn.split(":")
        if len(parts) < 6 or (acct and parts[4] != acct):
            evidence.add(acct, rs.region, "", "roles", "partial", f"{role_arn} belongs to another account; not read")
        else:
            own.append(role_arn)

    def listing(role_arn: str):
        name = role_arn.rsplit("/", 1)[-1]
        attached = attempt(role_arn, "ListAttachedRolePolicies", lambda: [
            p["PolicyArn"] for p in rs.pages("iam", "list_attached_role_policies", "AttachedPolicies", RoleName=name)])
        names = attempt(role_arn, "ListRolePolicies", lambda: list(
            rs.pages("iam", "list_role_policies", "PolicyNames", RoleName=name)))
        return attached or [], names or []

    listed = dict(zip(own, rs.pool(listing, own), strict=True))

    def managed(policy_arn: str):
        def read():
            meta = client.get_policy(PolicyArn=policy_arn)["Policy"]
            doc = client.get_policy_version(PolicyArn=policy_arn, VersionId=meta["DefaultVersionId"])
            return meta["PolicyName"], iam.rows(doc["PolicyVersion"]["Document"])

        return attempt(policy_arn, "GetPolicyVersion", read)

    distinct = sorted({p for attached, _ in listed.values() for p in attached})
    policies = dict(zip(distinct, rs.pool(managed, distinct), strict=True))
    inline = [(role_arn, pname) for role_arn, (_, names) in listed.items() for pname in names]

    def inline_policy(pair):
        role_arn, pname = pair
        return attempt(role_arn, "GetRolePolicy", lambda: (pname, iam.rows(client.get_role_policy(
            RoleName=role_arn.rsplit("/", 1)[-1], PolicyName=pname)["PolicyDocument"])))

    inline_docs = dict(zip(inline, rs.pool(inline_policy, inline), strict=True))
    rows: list[dict] = []

    def add(role_arn: str, got) -> None:
        if got:
            policy_name, statements = got
            rows.extend({"account_id": acct, "role_arn": role_arn, "policy_name": policy_name, "effect": effect,
                         "action": action, "resource": resource} for effect, action, resource in statements)

    for role_arn, (attached, names) in listed.items():
        for policy_arn in attached:
            add(role_arn, policies.get(policy_arn))
        for pname in names:
            add(role_arn, inline_docs.get((role_arn, pname)))
    return rows
