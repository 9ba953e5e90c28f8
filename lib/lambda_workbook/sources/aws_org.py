"""An AWS Organization's accounts for one scan: list them, assume a read-only role in each.

With ``scan --org-role ROLE_NAME`` the caller's credentials (a profile of the management account or of a
delegated administrator) list the Organization's ACTIVE accounts (``organizations:ListAccounts``, every page),
then assume ``arn:<partition>:iam::<account>:role/<ROLE_NAME>`` in each (``sts:AssumeRole``, session name
``lambda-workbook-review``, with ``ExternalId`` when one is given). Each assumed session refreshes its credentials
before they expire, so a long scan keeps reading. An account whose role cannot be assumed becomes a :class:`Gap`
(its account id and the error code), recorded in the snapshot's evidence; the other accounts are scanned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from . import errors

SESSION_NAME = "lambda-workbook-review"
#: The name a role may have in IAM (letters, digits and +=,.@_- up to 64 characters; a path is not a name).
_ROLE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")


@dataclass(frozen=True)
class Member:
    """An account of the Organization whose role was assumed."""

    account_id: str
    name: str
    role_arn: str
    session: boto3.Session


@dataclass(frozen=True)
class Gap:
    """An account of the Organization that could not be scanned, and why (the AWS error code)."""

    account_id: str
    name: str
    role_arn: str
    code: str
    message: str

    def line(self) -> str:
        return (f"account {self.account_id}{f' ({self.name})' if self.name else ''} not scanned: sts:AssumeRole "
                f"{self.role_arn} failed with {self.code}" + (f" ({self.message})" if self.message else ""))


def check_role_name(role: str) -> str:
    """A role name as IAM allows it; anything else is one line naming the value."""
    if not role or len(role) > 64 or set(role) - _ROLE_CHARS:
        raise ValueError(f"--org-role {role!r} is not an IAM role name: up to 64 letters, digits and +=,.@_- "
                         "(the name only, without a path or ARN)")
    return role


def _client(session: boto3.Session, service: str, region: str, config, calls):
    client = session.client(service, region_name=region, config=config)
    if calls is not None:
        calls.attach(client, region)
    return client


def list_accounts(session: boto3.Session, region: str, config=None, calls=None) -> list[dict]:
    """The Organization's ACTIVE accounts (``Id``, ``Name``), every page of ``ListAccounts``, sorted by id."""
    org = _client(session, "organizations", region, config, calls)
    out = []
    for page in org.get_paginator("list_accounts").paginate():
        for acct in page.get("Accounts", []):
            state = acct.get("State") or acct.get("Status")   # Status is retired from 2026-09-09 in favour of State
            if str(state).upper() == "ACTIVE":
                out.append({"Id": str(acct["Id"]), "Name": str(acct.get("Name", ""))})
    return sorted(out, key=lambda a: a["Id"])


def role_arn(session: boto3.Session, account_id: str, role: str, region: str) -> str:
    partition = session.get_partition_for_region(region) if region else "aws"
    return f"arn:{partition}:iam::{account_id}:role/{role}"


def assumed_session(session: boto3.Session, arn: str, region: str, *, external_id: str | None = None,
                    config=None, calls=None) -> boto3.Session:
    """A session acting as the role ``arn``; its credentials are assumed again before they expire."""
    from botocore.credentials import RefreshableCredentials
    from botocore.session import get_session

    sts = _client(session, "sts", region, config, calls)
    extra = {"ExternalId": external_id} if external_id else {}

    def fetch() -> dict:
        c = sts.assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME, **extra)["Credentials"]
        expiry = c.get("Expiration") or (datetime.now(UTC) + timedelta(hours=1))
        return {"access_key": c["AccessKeyId"], "secret_key": c["SecretAccessKey"], "token": c["SessionToken"],
                "expiry_time": expiry.isoformat() if isinstance(expiry, datetime) else str(expiry)}

    creds = RefreshableCredentials.create_from_metadata(fetch(), fetch, "sts-assume-role")
    core = get_session()
    core._credentials = creds   # botocore has no public setter for a session's (refreshable) credentials object
    return boto3.Session(botocore_session=core, region_name=region)


def members(session: boto3.Session, role: str, region: str, *, external_id: str | None = None,
            config=None, profile: str | None = None, calls=None) -> tuple[list[Member], list[Gap]]:
    """Assume ``role`` in every ACTIVE account of the caller's Organization: the accounts whose role was
    assumed, and the gaps. Failing to list the accounts is the caller's problem (one line, raised)."""
    check_role_name(role)
    try:
        accounts = list_accounts(session, region, config, calls)
    except (ClientError, BotoCoreError) as exc:
        raise errors.translate(exc, profile=profile, region=region, service="organizations") from exc
    found, gaps = [], []
    for acct in accounts:
        arn = role_arn(session, acct["Id"], role, region)
        try:
            found.append(Member(acct["Id"], acct["Name"], arn, assumed_session(
                session, arn, region, external_id=external_id, config=config, calls=calls)))
        except ClientError as exc:
            err = exc.response.get("Error", {})
            if str(err.get("Code", "")) in errors.EXPIRED | errors.REJECTED:   # the caller's credentials: all fail
                raise errors.translate(exc, profile=profile, region=region) from exc
            gaps.append(Gap(acct["Id"], acct["Name"], arn, str(err.get("Code", "")) or "error",
                            " ".join(str(err.get("Message", "")).split())[:160]))
        except BotoCoreError as exc:   # credentials or network: the caller's, so every account would fail
            raise errors.translate(exc, profile=profile, region=region) from exc
    return found, gaps


#: The evidence item of an account that could not be scanned.
GAP_ITEM = "account"


def scanned_accounts(session: boto3.Session, profile: str | None, role: str, external_id: str | None, home: str,
                     regions: list[str], options, calls, evidence, seen: dict[str, str | None],
                     notes: list[str]) -> list[tuple]:
    """The scan's ``(Account, regions)`` for every member whose role was assumed; each gap becomes an evidence
    row (item ``account``) and a note. An account already scanned (by another profile) is skipped."""
    from .aws_common import Account, client_config

    found, gaps = members(session, role, home, external_id=external_id, config=client_config(options.max_attempts),
                          profile=profile, calls=calls)
    for gap in gaps:
        evidence.add(gap.account_id, "", "", GAP_ITEM, "missing", gap.line())
        notes.append(gap.line())
    out = []
    for m in found:
        if m.account_id in seen:
            notes.append(f"account {m.account_id} already scanned with profile {seen[m.account_id] or '(default)'}; "
                         "skipped")
            continue
        account = Account(profile, m.session, options, calls)
        account.account_id = m.account_id
        account.role_arn = m.role_arn        # a task on another machine assumes the role again (.aws_fanout)
        seen[m.account_id] = profile
        out.append((account, regions))
    return out


def gap_flags(rows: list[dict]) -> list:
    """The snapshot's flags for the accounts that could not be scanned (one line each)."""
    from ..schema import Problem

    return [Problem("flag", "evidence.csv", r["reason"]) for r in rows
            if r["item"] == GAP_ITEM and r["status"] == "missing"]
