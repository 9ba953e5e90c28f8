"""Rules on configuration: runtimes past support, VPC only where needed, least-privilege roles,
secrets in environment variable names."""

from __future__ import annotations

import datetime as dt
import math
import re

import pandas as pd

from .context import Context, calls_path, dollars, finding_row, runtime_table
from .thresholds import Thresholds


def _runtime_family(runtime: str) -> str:
    return re.sub(r"[\d.]+(\.x|\.al2(023)?)?$", "", runtime.split(".al2")[0]) if runtime else ""


def rule_deprecated_runtime(ctx: Context, t: Thresholds) -> list[dict]:
    """``deprecated-runtime``: a runtime past its end of support at the review date, or within
    ``runtime_warn_days`` of it (dates: ``data/runtimes/lambda-runtimes.json``)."""
    table = runtime_table()
    rts = table["runtimes"]
    out = []
    for key in ctx.function_keys():
        runtime = str(ctx.functions.loc[key, "runtime"] or "")
        if runtime not in rts:
            continue
        end = dt.date.fromisoformat(rts[runtime]["deprecation"])
        days = (end - ctx.as_of).days
        if days > t.runtime_warn_days:
            continue
        family = _runtime_family(runtime)
        same = {r: v for r, v in rts.items() if _runtime_family(r) == family and r != runtime}
        newest = max(same, key=lambda r: rts[r]["deprecation"]) if same else None
        past = days <= 0
        evidence = (f"runtime {runtime}: end of support {end:%Y-%m-%d} "
                    + (f"({-days} days before the review date" if past else f"(in {days} days from the review date")
                    + f" {ctx.as_of:%Y-%m-%d}, {ctx.as_of_basis}); dates from {table['source'].split(':')[0]} "
                    f"as of {table['as_of']}")
        if past:
            evidence += "; past that date Lambda no longer patches it, and creating or updating such functions is blocked later"
        rec = (f"Upgrade to {newest} (supported until {rts[newest]['deprecation']}"
               + (f", per {rts[newest]['source']}" if rts[newest].get("source") else "") + ")" if newest else
               "Move to a supported runtime") + (
               "; test the code and its dependencies on it first (major versions change APIs and defaults).")
        title = (f"{runtime} reached end of support on {end:%Y-%m-%d}" if past else
                 f"{runtime} reaches end of support on {end:%Y-%m-%d}")
        out.append(finding_row("deprecated-runtime", key, "high" if past else "medium", title, evidence,
                        "functions.runtime; data/runtimes/lambda-runtimes.json", rec))
    return out


_PRIVATE_SERVICES = {"rds", "aurora", "elasticache", "redis", "memcached", "documentdb", "docdb", "neptune",
                     "opensearch", "elasticsearch", "msk", "kafka", "efs", "memorydb", "redshift"}
_GATEWAY_ENDPOINT_SERVICES = {"s3", "dynamodb"}
_PRIVATE_HOST = re.compile(r"(^|[./])(internal|local|lan|corp|intra)([./:]|$)|^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)")


def _destination(service: str, resource: str) -> str:
    """private (in the VPC), gateway (S3/DynamoDB: free gateway endpoints), aws (other public AWS endpoints),
    internet (a public host) or none (a wait)."""
    s = str(service).lower()
    if s == "wait":
        return "none"
    if s in _PRIVATE_SERVICES:
        return "private"
    if s in _GATEWAY_ENDPOINT_SERVICES:
        return "gateway"
    if s == "http":
        return "private" if _PRIVATE_HOST.search(str(resource).lower()) else "internet"
    return "aws"


def rule_vpc_review(ctx: Context, t: Thresholds) -> list[dict]:
    """``vpc-review``: a VPC function whose traced calls reach no private resource, or whose public traffic
    goes through a NAT gateway, or whose VPC config has a single subnet."""
    out = []
    for key in ctx.function_keys():
        f = ctx.functions.loc[key]
        if not str(f["vpc_id"] or ""):
            continue
        calls = ctx.calls(key)
        dest = calls.apply(lambda r: _destination(r["service"], r["resource"]), axis=1) if len(calls) else pd.Series(
            dtype=object)
        private = calls[dest == "private"]
        public = calls[dest.isin(["gateway", "aws", "internet"])]
        single = int(f["subnet_count"]) < 2
        if len(calls) and public.empty and not single:
            continue  # reaches only private resources: the VPC is needed
        c = ctx.costs.loc[key]
        kb = float(((public["calls_per_invocation"].fillna(0) + public["retries_per_invocation"].fillna(0))
                    * public["response_kb"].fillna(0)).sum()) if len(public) else 0.0
        # calls whose size or count is not recorded are unknown, not 0 KB: the NAT figure is then a lower bound
        unsized = public[public["response_kb"].isna() | public["calls_per_invocation"].isna()] if len(public) else public
        gb_month = kb * float(c["invocations_per_month"]) / 1024.0**2
        nat = gb_month * ctx.book(key).price("vpc.nat_gateway_gb")
        parts = [f"VPC {f['vpc_id']}, {int(f['subnet_count'])} subnet(s), {int(f['security_group_count'])} "
                 "security group(s)"]
        if private.empty and len(calls):
            parts.append("no traced call reaches a private resource")
        elif len(private):
            parts.append("private resources: " + ", ".join(sorted(set(private["service"] + " " + private["resource"]))))
        if not len(calls):
            parts.append("no traced calls: whether it needs the VPC is not in evidence")
        if len(public):
            parts.append("public endpoints (through NAT unless VPC endpoints exist): " + ", ".join(
                sorted(set(public["service"] + " " + public["resource"]))) + f"; ≈{gb_month:,.3g} GB/month of "
                f"responses ({kb:,.1f} KB per invocation; request bodies are not recorded) = {dollars(nat)}/month of "
                "NAT data processing" + (" at least (unknown: the response size or call count of " + ", ".join(
                    sorted(set(unsized["service"] + " " + unsized["resource"]))) + " is not recorded, so it is not "
                    "priced)" if len(unsized) else ""))
        if single:
            parts.append("a single subnet: no Multi-AZ (Trusted Advisor L4dfs2Q4C6)")
        if private.empty:
            rec = ("Keep the VPC only if the function reaches private resources; none is in evidence, so detach it "
                   "and call the services through their public endpoints (no NAT gateway, no ENIs, simpler cold "
                   "starts).")
            title = "VPC attachment with no private resource in evidence"
        else:
            rec = ("The VPC is needed for the private resources; route S3 and DynamoDB through free gateway "
                   "endpoints and other AWS services through interface endpoints where the NAT bill justifies it, and "
                   "keep internet calls few.")
            title = "VPC function sends public traffic through NAT"
        if single:
            rec += " Configure subnets in at least two Availability Zones."
            if not len(public) and len(private):
                title = "VPC function in a single subnet"
        paths = "functions.vpc_id, subnet_count" + (f"; {calls_path(calls)}" if len(calls) else "")
        sev = "medium" if (private.empty and len(calls)) or single else "low"
        impact = (nat, 0.0, nat) if len(public) else (math.nan, math.nan, math.nan)
        out.append(finding_row("vpc-review", key, sev, title, "; ".join(parts), paths, rec, *impact))
    return out


def rule_iam_wildcard(ctx: Context, t: Thresholds) -> list[dict]:
    """``iam-wildcard``: the execution role allows actions containing ``*``."""
    roles = ctx.snap.roles
    if roles.empty:
        return []
    wild = roles[(roles["effect"].str.lower() == "allow") & roles["action"].str.contains("*", regex=False)]
    by_role = {k: g for k, g in wild.groupby(["account_id", "role_arn"])}
    out = []
    for key in ctx.function_keys():
        role = ctx.functions.loc[key, "role_arn"]
        g = by_role.get((key[0], role))
        if g is None:
            continue
        full = g["action"] == "*"
        service = g["action"].str.endswith(":*")
        any_resource = g["resource"] == "*"
        sev = "high" if (full.any() or (service & any_resource).any()) else "medium" if service.any() else "low"
        grants = "; ".join(f"{r.action} on {r.resource} ({r.policy_name})" for r in g.head(6).itertuples())
        more = f" and {len(g) - 6} more" if len(g) > 6 else ""
        calls = ctx.calls(key)
        used = sorted({f"{r.service}:{r.operation} on {r.resource}" for r in calls.itertuples()
                       if r.service not in ("http", "wait", "rds") and r.operation})
        evidence = f"role {role} allows {grants}{more}"
        if used:
            evidence += f". Traced calls need only: {', '.join(used)}"
        rec = ("Replace the wildcards with the actions the function calls on the resources it uses"
               + (f" ({', '.join(used)})" if used else "") + "; IAM Access Analyzer can generate a policy from the "
               "role's CloudTrail activity. A compromised or buggy function can then do no more than its job.")
        out.append(finding_row("iam-wildcard", key, sev, f"Execution role grants {', '.join(g['action'].head(3))}"
                        + (" …" if len(g) > 3 else ""), evidence,
                        "roles (execution-role policies)" + (f"; {calls_path(calls)}" if len(calls) else ""), rec))
    return out


def secret_names(names: str | list[str], t: Thresholds | None = None) -> list[str]:
    """Environment variable names that look like they hold a secret (names only, never values)."""
    t = t or Thresholds()
    pattern = re.compile(t.secret_names, re.IGNORECASE)
    refs = {s.strip().upper() for s in t.secret_reference_suffixes.split(",") if s.strip()}
    items = names.split(";") if isinstance(names, str) else list(names)
    return [n for n in (x.strip() for x in items) if n and pattern.search(n) and n.upper().split("_")[-1] not in refs]


def rule_secret_env_names(ctx: Context, t: Thresholds) -> list[dict]:
    """``secret-env-names``: environment variable names that say they hold secrets."""
    out = []
    for key in ctx.function_keys():
        found = secret_names(str(ctx.functions.loc[key, "env_var_names"] or ""), t)
        if not found:
            continue
        evidence = (f"environment variables named {', '.join(found)} (names only: the workbook never reads values); "
                    "anyone allowed lambda:GetFunctionConfiguration can read them in plain text")
        rec = ("Keep secrets in AWS Secrets Manager or SSM Parameter Store (SecureString), fetch them once in INIT "
               "(the AWS Parameters and Secrets Lambda Extension caches them) and keep only their names or ARNs in "
               "the environment; rotate the values that were exposed.")
        out.append(finding_row("secret-env-names", key, "medium", f"{len(found)} environment variable(s) look like secrets",
                        evidence, "functions.env_var_names", rec))
    return out
