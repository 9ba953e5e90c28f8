"""IAM policy documents as data: statement flattening and action wildcard matching (pure, no AWS calls).

IAM compares an action such as ``lambda:ListFunctions`` with the patterns of a statement's ``Action`` (or
``NotAction``) case-insensitively, where ``*`` matches any run of characters and ``?`` any single character.
An explicit ``Deny`` wins over any ``Allow``. Conditions are not evaluated here: a statement with a condition
counts as applying, which errs towards "allowed" for Allow statements and towards "denied" for Deny ones.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from functools import lru_cache
from typing import Any

__all__ = ["action_matches", "allows", "parse", "rows", "statements"]


@lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern:
    """An IAM wildcard pattern as a regex: ``*`` any run of characters, ``?`` one, the rest literal."""
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def action_matches(pattern: str, action: str) -> bool:
    """Whether an IAM action pattern (``s3:Get*``, ``*``, ``lambda:List?unctions``) covers ``action``."""
    if not isinstance(pattern, str) or not isinstance(action, str):
        raise TypeError(f"IAM patterns and actions are strings; got {pattern!r} and {action!r}")
    return _pattern(pattern, True).fullmatch(action) is not None


def resource_matches(pattern: str, resource: str) -> bool:
    """ARN matching: wildcards as for actions, but case-sensitive (as IAM compares resource ARNs)."""
    return _pattern(pattern, False).fullmatch(resource) is not None


def parse(document: Any) -> dict:
    """A policy document as a dict: accepts a dict, JSON text, or URL-encoded JSON (as IAM's API returns)."""
    if isinstance(document, dict):
        return document
    if isinstance(document, str):
        text = document.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            text = urllib.parse.unquote(text)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"policy document is not JSON: {exc}") from None
        if isinstance(doc, dict):
            return doc
    raise ValueError(f"policy document must be a JSON object, got {type(document).__name__}")


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def statements(document: Any) -> list[dict]:
    """The statements of a policy document, each as a dict (a single-statement object becomes a list)."""
    return [s for s in _as_list(parse(document).get("Statement")) if isinstance(s, dict)]


def _applies(statement: dict, action: str, resource: str | None) -> bool:
    if "Action" in statement:
        hit = any(action_matches(p, action) for p in _as_list(statement["Action"]))
    elif "NotAction" in statement:
        hit = not any(action_matches(p, action) for p in _as_list(statement["NotAction"]))
    else:
        hit = False
    if not hit or resource is None:
        return hit
    if "Resource" in statement:
        return any(resource_matches(p, resource) for p in _as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(resource_matches(p, resource) for p in _as_list(statement["NotResource"]))
    return False


def allows(document: Any, action: str, resource: str | None = None) -> bool:
    """Whether the policy allows ``action`` (on ``resource``; ``None`` = on at least one resource).

    With ``resource=None`` an Allow counts when its action matches, and a Deny only when it denies the
    action on every resource (``Resource: "*"``), so a resource-scoped Deny does not hide a scoped Allow.
    """
    allowed = False
    for st in statements(document):
        effect = str(st.get("Effect", "")).lower()
        if not _applies(st, action, resource):
            continue
        if effect == "deny":
            if resource is not None or "*" in _as_list(st.get("Resource")):
                return False
        elif effect == "allow":
            allowed = True
    return allowed


def rows(document: Any) -> list[tuple[str, str, str]]:
    """``(effect, action, resource)`` for every action x resource of every statement.

    ``NotAction`` patterns are returned as ``"NOT <pattern>"`` and ``NotResource`` as ``"NOT <arn>"``: an
    Allow with ``NotAction`` grants everything else, which a least-privilege review must see.
    """
    out = []
    for st in statements(document):
        effect = str(st.get("Effect", ""))
        actions = [str(a) for a in _as_list(st.get("Action"))] or [f"NOT {a}" for a in _as_list(st.get("NotAction"))]
        resources = [str(r) for r in _as_list(st.get("Resource"))] or \
            [f"NOT {r}" for r in _as_list(st.get("NotResource"))] or ["*"]
        out.extend((effect, a, r) for a in actions for r in resources)
    return out
