"""``iam/workbook-readonly-policy.json`` is scoped to resources where the API allows it, and still allows every call
a scan makes *on the resource that call touches* (``lambda_workbook.iam`` evaluates actions and resources).

Which actions accept a resource ARN comes from AWS's Service Authorization Reference (its "Resource types" column;
an action without one must be granted on ``"*"``); ``iam/README.md`` lists the pages.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from conftest import MOTO_SAMPLE_ACCOUNTS
from lambda_workbook import iam
from lambda_workbook.sources import aws

#: Actions of the scan that take no resource ARN (granted on "*" only).
NO_RESOURCE_LEVEL = {
    "lambda:ListFunctions", "lambda:ListEventSourceMappings", "sns:ListSubscriptions", "events:ListEventBuses",
    "events:ListRules", "events:ListRuleNamesByTarget", "s3:ListAllMyBuckets", "cloudwatch:GetMetricData",
    "logs:GetQueryResults", "logs:StopQuery", "sts:GetCallerIdentity",
}
_FUNCTION_OPS = {"GetFunctionConfiguration", "GetFunctionConcurrency", "ListAliases", "ListProvisionedConcurrencyConfigs",
                 "ListFunctionUrlConfigs", "GetPolicy"}


def needs(call: dict) -> list[str]:
    """The resource ARNs IAM checks for one recorded call (``"*"`` for actions without resource-level permissions)."""
    service, op, p, region, account = call["service"], call["op"], call["params"], call["region"], call["account"]
    action = aws.iam_action(service, op)
    if action in NO_RESOURCE_LEVEL:
        return ["*"]
    if service == "lambda" and op in _FUNCTION_OPS:
        name = p["FunctionName"]
        return [name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"]
    if service == "logs" and op == "DescribeLogGroups":
        return [f"arn:aws:logs:{region}:{account}:log-group::log-stream:"]     # a listing, not one group (iam/README.md)
    if service == "logs" and op in ("StartQuery", "FilterLogEvents"):
        groups = p.get("logGroupNames") or [p["logGroupName"]]
        return [arn for g in groups for arn in (f"arn:aws:logs:{region}:{account}:log-group:{g}",
                                                f"arn:aws:logs:{region}:{account}:log-group:{g}:*")]
    if service == "iam" and op in ("ListAttachedRolePolicies", "ListRolePolicies", "GetRolePolicy"):
        return [f"arn:aws:iam::{account}:role/{p['RoleName']}"]
    if service == "iam" and op in ("GetPolicy", "GetPolicyVersion"):
        return [p["PolicyArn"]]
    if service == "s3" and op in ("GetBucketLocation", "GetBucketNotificationConfiguration"):
        return [f"arn:aws:s3:::{p['Bucket']}"]
    if service == "events" and op == "ListTargetsByRule":
        bus = p.get("EventBusName") or "default"
        return [f"arn:aws:events:{region}:{account}:rule/{'' if bus == 'default' else bus + '/'}{p['Rule']}"]
    if service in ("apigateway", "apigatewayv2"):      # the HTTP path, without v2's "/v2" (its ARNs are /apis/...)
        path = call["path"].split("?")[0]
        return [f"arn:aws:apigateway:{region}::{path.removeprefix('/v2') if service == 'apigatewayv2' else path}"]
    raise AssertionError(f"no resource rule for {service}.{op}: add one (and check the policy) before using it")


@pytest.fixture(scope="module")
def calls(moto_sample):
    """One scan of both profiles and two regions, every call recorded with its parameters, region and account."""
    import moto_account

    recorded: list[dict] = []
    original = aws.make_session

    def hooked(profile, region):
        session = original(profile, region)
        account = MOTO_SAMPLE_ACCOUNTS[profile or "prod"]

        def keep_params(params, context, **_):
            context["lwb_params"] = dict(params)

        def record(model, params, context, **_):
            recorded.append({"service": model.service_model.service_name, "op": model.name, "account": account,
                             "params": context.get("lwb_params", {}), "path": params.get("url_path", ""),
                             "region": context.get("client_region") or region})

        session.events.register("provide-client-params.*.*", keep_params)
        session.events.register("before-call.*.*", record)
        return session

    with pytest.MonkeyPatch.context() as mp:
        moto_account.use_env(mp, moto_sample.env)
        mp.setattr(aws, "make_session", hooked)
        aws.scan(profiles="prod,staging", regions="us-east-1,eu-west-1", lookback_days=1, progress=False,
                 end=moto_sample.end.to_pydatetime())
    return recorded


@pytest.fixture(scope="module")
def policy() -> dict:
    return json.loads(aws.policy_path().read_text())


def test_every_call_of_a_scan_is_allowed_on_the_resource_it_touches(calls, policy):
    by_action: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        action = aws.iam_action(call["service"], call["op"])
        for arn in needs(call):
            assert iam.allows(policy, action, arn), f"{call['service']}.{call['op']} needs {action} on {arn}"
            by_action[action].add(arn)
    # the scan went through functions, log groups, roles, policies, rules, buckets and APIs
    scoped = {a for a, arns in by_action.items() if arns != {"*"}}
    assert {"lambda:GetFunctionConcurrency", "logs:StartQuery", "iam:GetRolePolicy", "iam:GetPolicyVersion",
            "events:ListTargetsByRule", "s3:GetBucketNotification", "apigateway:GET"} <= scoped, sorted(by_action)
    assert len(calls) > 50


def test_the_policy_grants_star_only_to_actions_without_resource_level_permissions(policy):
    for effect, action, resource in iam.rows(policy):
        assert effect == "Allow" and aws.is_read_only(action), (effect, action)
        assert (resource == "*") == (action in NO_RESOURCE_LEVEL), (action, resource)


@pytest.mark.parametrize(("action", "arn"), [
    ("logs:StartQuery", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/orders"),
    ("logs:FilterLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:API-Gateway-Execution-Logs_x/prod"),
    ("iam:GetRolePolicy", "arn:aws:iam::111122223333:user/alice"),
    ("iam:GetPolicy", "arn:aws:iam::111122223333:role/r"),
    ("lambda:GetPolicy", "arn:aws:lambda:us-east-1:111122223333:layer:deps:3"),
    ("events:ListTargetsByRule", "arn:aws:events:us-east-1:111122223333:event-bus/default"),
    ("s3:GetBucketNotification", "*"),
    ("lambda:GetFunctionConfiguration", "*"),
    ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:111122223333:function:f"),
    ("logs:GetLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/f"),
])
def test_what_the_scoping_leaves_out(policy, action, arn):
    assert not iam.allows(policy, action, arn)
