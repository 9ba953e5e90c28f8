"""``lambda_workbook.iam``: IAM wildcard matching and Allow/Deny evaluation on policy documents, and the shipped
read-only policy (``iam/workbook-readonly-policy.json``, read through this module) only reads and covers every
AWS operation the scanner modules call (found in their source, mapped through botocore's local service models)."""

from __future__ import annotations

import ast
import json
import re
import urllib.parse
from functools import lru_cache
from pathlib import Path

import botocore.session
import pytest

from lambda_workbook import iam
from lambda_workbook.sources import aws

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())   # works from any tests/ subfolder
SCANNER = ["aws.py", "aws_common.py", "aws_calls.py", "aws_inventory.py", "aws_logs.py", "aws_metrics.py",
           "aws_triggers.py"]
SERVICES = ("lambda", "iam", "logs", "cloudwatch", "s3", "sns", "events", "apigateway", "apigatewayv2", "sts")
WRITE_VERBS = re.compile(r"^(Put|Create|Delete|Update|Invoke|Tag|Untag|Publish|Attach|Detach|Add|Remove|Set|Modify|"
                         r"Enable|Disable|Pass|Upload|Change|Reset|Restore|Start(?!Query$)|Stop(?!Query$))")


# -- matching ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pattern", "action", "hit"), [
    ("lambda:ListFunctions", "lambda:ListFunctions", True),
    ("LAMBDA:listfunctions", "lambda:ListFunctions", True),        # actions compare case-insensitively
    ("lambda:List*", "lambda:ListAliases", True),
    ("lambda:List*", "lambda:GetPolicy", False),
    ("*", "iam:DeleteRole", True),
    ("lambda:List?unctions", "lambda:ListFunctions", True),
    ("lambda:List?unctions", "lambda:ListXXunctions", False),
    ("lambda:Get", "lambda:GetPolicy", False),                     # whole-string match, not a prefix
    ("s3:Get.*", "s3:GetObject", False),                           # regex characters are literal
])
def test_action_matches(pattern, action, hit):
    assert iam.action_matches(pattern, action) is hit


def test_resources_compare_case_sensitively_but_actions_do_not():
    doc = {"Statement": [{"Effect": "Allow", "Action": "logs:StartQuery",
                          "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}
    assert iam.allows(doc, "LOGS:startquery", "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f")
    assert not iam.allows(doc, "logs:StartQuery", "arn:aws:logs:us-east-1:1:log-group:/AWS/lambda/f")


def test_non_string_patterns_are_a_clear_type_error():
    with pytest.raises(TypeError, match="strings"):
        iam.action_matches(["lambda:*"], "lambda:ListFunctions")


# -- evaluation --------------------------------------------------------------------------------------------

def test_explicit_deny_wins_and_nothing_is_allowed_by_default():
    doc = {"Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
                         {"Effect": "Deny", "Action": "lambda:Delete*", "Resource": "*"}]}
    assert iam.allows(doc, "lambda:ListFunctions")
    assert not iam.allows(doc, "lambda:DeleteFunction")
    assert not iam.allows(doc, "s3:GetObject")
    assert not iam.allows({"Statement": []}, "lambda:ListFunctions")


def test_a_scoped_deny_hides_only_its_resources():
    doc = {"Statement": [{"Effect": "Allow", "Action": "lambda:GetPolicy", "Resource": "*"},
                         {"Effect": "Deny", "Action": "lambda:GetPolicy", "Resource": "arn:aws:lambda:*:*:function:secret"}]}
    assert iam.allows(doc, "lambda:GetPolicy")                       # on at least one resource
    assert iam.allows(doc, "lambda:GetPolicy", "arn:aws:lambda:us-east-1:1:function:open")
    assert not iam.allows(doc, "lambda:GetPolicy", "arn:aws:lambda:us-east-1:1:function:secret")


def test_not_action_and_not_resource():
    doc = {"Statement": {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::private"}}
    assert iam.allows(doc, "s3:GetObject", "arn:aws:s3:::public")
    assert not iam.allows(doc, "s3:GetObject", "arn:aws:s3:::private")
    assert not iam.allows(doc, "iam:GetRole", "arn:aws:s3:::public")
    assert iam.rows(doc) == [("Allow", "NOT iam:*", "NOT arn:aws:s3:::private")]


def test_parse_accepts_dict_json_and_url_encoded_json_and_refuses_the_rest():
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["a:B", "a:C"], "Resource": ["x", "y"]}]}
    text = json.dumps(doc)
    for form in (doc, text, urllib.parse.quote(text)):
        assert iam.parse(form) == doc
        assert sorted(iam.rows(form)) == sorted((e, a, r) for e in ["Allow"] for a in ["a:B", "a:C"] for r in ["x", "y"])
    for bad in ("{nope", "[1, 2]", 42, None):
        with pytest.raises(ValueError) as err:
            iam.parse(bad)
        assert "\n" not in str(err.value)


def test_statements_skip_non_objects():
    assert iam.statements({"Statement": [{"Effect": "Allow"}, "junk", 3]}) == [{"Effect": "Allow"}]
    assert iam.statements({}) == []


# -- the shipped read-only policy ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def policy() -> dict:
    return iam.parse((ROOT / "iam" / "workbook-readonly-policy.json").read_text(encoding="utf-8"))


def test_the_readonly_policy_only_allows_and_has_no_write_verb(policy):
    rows = iam.rows(policy)
    assert rows
    for effect, action, _ in rows:
        assert effect == "Allow"
        assert not action.startswith("NOT "), action          # no NotAction: that would grant everything else
        service, _, name = action.partition(":")
        assert "*" not in action and "?" not in action, action  # every action named exactly
        if service == "apigateway":
            assert name == "GET", action                     # API Gateway's read is the HTTP verb
        else:
            assert not WRITE_VERBS.match(name), action
            assert name.startswith(("List", "Get", "Describe", "FilterLogEvents", "StartQuery", "StopQuery")), action


@pytest.mark.parametrize("action", ["lambda:UpdateFunctionConfiguration", "lambda:InvokeFunction",
                                    "lambda:PutProvisionedConcurrencyConfig", "lambda:DeleteFunction",
                                    "iam:CreateRole", "iam:PutRolePolicy", "logs:PutRetentionPolicy",
                                    "logs:CreateLogGroup", "s3:PutBucketNotification", "events:PutRule",
                                    "cloudwatch:PutMetricData", "sns:Publish", "apigateway:POST", "apigateway:PATCH"])
def test_the_readonly_policy_refuses_writes_everywhere(policy, action):
    assert not iam.allows(policy, action)


@lru_cache(maxsize=1)
def _scanner_operations() -> frozenset[str]:
    """snake_case names the scanner modules call or hand on (``x.op``) or page through (``pages("svc", "op")``)."""
    names: set[str] = set()
    for file in SCANNER:
        tree = ast.parse((ROOT / "lib" / "lambda_workbook" / "sources" / file).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):       # client.op(...) and client.op handed to a helper
                names.add(node.attr)
            if isinstance(node, ast.Call):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        names.add(arg.value)
    return frozenset(names)


@lru_cache(maxsize=1)
def _called() -> dict[str, list[tuple[str, str]]]:
    """The scanner's called names that are botocore operations of the services it reads, with (service, Operation)."""
    session = botocore.session.get_session()
    ops: dict[str, list[tuple[str, str]]] = {}
    for service in SERVICES:
        for op in session.get_service_model(service).operation_names:
            ops.setdefault(botocore.xform_name(op), []).append((service, op))
    return {name: ops[name] for name in _scanner_operations() if name in ops}


def test_every_operation_the_scanner_calls_is_allowed_by_the_policy(policy):
    called = _called()
    # the scan reads functions, their logs, metrics, triggers and roles
    for expected in ("list_functions", "get_metric_data", "start_query", "stop_query", "get_role_policy",
                     "list_event_source_mappings"):
        assert expected in called, sorted(called)
    missing = []
    for name, candidates in sorted(called.items()):
        if not any(iam.allows(policy, aws.iam_action(svc, op)) for svc, op in candidates):
            missing.append(f"{name} ({', '.join(aws.iam_action(s, o) for s, o in candidates)})")
    assert not missing, f"the scanner calls operations the read-only policy does not allow: {missing}"


def test_the_scanner_calls_no_write_operation():
    writes = sorted(name for name, candidates in _called().items()
                    if all(WRITE_VERBS.match(op) for _, op in candidates))
    assert not writes, f"the scanner modules call write operations: {writes}"
