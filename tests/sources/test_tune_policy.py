"""``iam/workbook-tuner-policy.json``: every AWS call the tuner makes in the moto runs — a copy of a function with
layers and a VPC, an in-place run, a run whose network fails and its ``--recover`` — is allowed by the policy
rendered for that function and mode (``lambda_workbook.iam`` evaluates actions *and* resources), and the policy
grants nothing more than the tuner needs: in the copy mode only reads on the function itself, never deleting
the function, passing no other role, touching no other function's copies.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import BotoCoreError

from lambda_workbook import cli, iam
from lambda_workbook.sources import aws_invoker, tune_copy, tune_policy
from tune_moto import (
    ACCOUNT,
    FN,
    READS,
    REGION,
    ZIP,
    Calls,
    fetch_stub,
    lam,
    leftovers,
    logs,
    make_function,
    moto,
    report_tail,
)

__all__ = ["lam", "logs", "moto"]  # fixtures
LAMBDA_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
EC2_CHECKS = ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs")


def needs(service: str, op: str, params: dict) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs one call needs (for aliases both ARNs IAM might check)."""
    if service == "logs":
        return [(f"logs:{op}", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{params['logGroupName']}")]
    assert service == "lambda", service
    name = params["FunctionName"].split(":function:")[-1]
    arn = LAMBDA_ARN + name
    action = "lambda:InvokeFunction" if op == "Invoke" else f"lambda:{op}"
    out = [(action, arn + (f":{params['Qualifier']}" if params.get("Qualifier") else ""))]
    if op in ("CreateAlias", "DeleteAlias"):
        out.append((action, f"{arn}:{params['Name']}"))
    if op == "CreateFunction":
        out.append(("iam:PassRole", params["Role"]))
        out += [("lambda:GetLayerVersion", layer) for layer in params.get("Layers", [])]
        if (params.get("VpcConfig") or {}).get("SubnetIds"):
            out += [(a, "*") for a in EC2_CHECKS]
    return out


def assert_allowed(policy: dict, calls: Calls) -> set[str]:
    actions = set()
    for service, op, params in calls.log:
        for action, resource in needs(service, op, params):
            assert iam.allows(policy, action, resource), f"{service}.{op} needs {action} on {resource}"
            actions.add(action)
    return actions


@pytest.fixture
def tuned(lam):
    """A function with a layer and a VPC (so that those statements are needed), and its configuration."""
    layer = lam.publish_layer_version(LayerName="deps", Content={"ZipFile": ZIP})["LayerVersionArn"]
    make_function(lam, "vpc-fn", Layers=[layer], VpcConfig={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]})
    return lam.get_function_configuration(FunctionName="vpc-fn")


def tune(lam, logs, tmp_path, name, **kw):
    tmp_path.mkdir(exist_ok=True)
    return aws_invoker.tune_function(name, [256, 1024], client=lam, logs_client=logs, journal=tmp_path,
                                     fetch_code=fetch_stub, out=lambda s: None, max_invocations=6, poll_s=0.01,
                                     log_tail_source=report_tail(), **kw)


def test_every_call_of_a_copy_run_is_allowed(lam, logs, tmp_path, tuned):
    calls = Calls(lam, logs)
    tune(lam, logs, tmp_path, "vpc-fn")
    policy = tune_policy.render(tuned)
    actions = assert_allowed(policy, calls.stop())
    assert {"lambda:CreateFunction", "lambda:PublishVersion", "lambda:InvokeFunction", "lambda:DeleteFunction",
            "logs:DeleteLogGroup", "iam:PassRole", "lambda:GetLayerVersion", *EC2_CHECKS} <= actions
    assert {s["Sid"] for s in policy["Statement"]} == {"ReadTheFunction", *tune_policy.COPY, tune_policy.LAYERS,
                                                       tune_policy.VPC}
    template = tune_policy.template()
    crippled = {**template, "Statement": [s for s in template["Statement"] if s["Sid"] != "DeleteTheCopiesLogGroups"]}
    with pytest.raises(AssertionError, match="logs:DeleteLogGroup"):
        assert_allowed(tune_policy.render(tuned, doc=crippled), calls)
    # on the function itself the copy mode may only read
    for action in ("lambda:UpdateFunctionConfiguration", "lambda:PublishVersion", "lambda:CreateAlias",
                   "lambda:InvokeFunction", "lambda:DeleteFunction", "lambda:CreateFunction"):
        assert not iam.allows(policy, action, LAMBDA_ARN + "vpc-fn")
        assert not iam.allows(policy, action, LAMBDA_ARN + "vpc-fn:1")
    assert not iam.allows(policy, "lambda:InvokeFunction", LAMBDA_ARN + "vpc-fn:live")


@pytest.mark.parametrize("in_place", [False, True], ids=["copy", "in-place"])
def test_every_call_of_a_run_cut_off_and_of_its_recover_is_allowed(lam, logs, tmp_path, in_place):
    config = lam.get_function_configuration(FunctionName=FN)
    policy = tune_policy.render(config, in_place=in_place)
    calls = Calls(lam, logs)
    tune(lam, logs, tmp_path / "ok", FN, in_place=in_place)
    ops = calls.stop().ops()
    actions = assert_allowed(policy, calls)
    if in_place:
        assert {"lambda:UpdateFunctionConfiguration", "lambda:PublishVersion", "lambda:CreateAlias",
                "lambda:InvokeFunction", "lambda:DeleteAlias", "lambda:DeleteFunction", "lambda:ListAliases"} <= actions
        assert "iam:PassRole" not in actions and not iam.allows(policy, "lambda:CreateFunction", LAMBDA_ARN + "x")
    # the network fails for good after the second version: the run cannot clean up, --recover does
    k = [i for i, op in enumerate(ops, start=1) if op == "PublishVersion"][1]
    failing = Calls(lam, logs, fail_at=k, persist=True)
    with pytest.raises((aws_invoker.InvokerError, BotoCoreError)):
        tune(lam, logs, tmp_path / "cut", FN, in_place=in_place)
    assert_allowed(policy, failing.stop())
    assert leftovers(lam, logs) != []
    (journal,) = (tmp_path / "cut").glob("*.jsonl")
    recovering = Calls(lam, logs)
    assert aws_invoker.recover(journal, client=lam, logs_client=logs, out=lambda s: None) == []
    assert any(op.startswith("Delete") for op in recovering.stop().ops())
    assert_allowed(policy, recovering)
    assert leftovers(lam, logs) == [] and lam.get_function_configuration(FunctionName=FN)["MemorySize"] == 512


def test_the_policy_is_scoped(tuned):
    policy = tune_policy.render(tuned)
    role = tuned["Role"]
    assert iam.allows(policy, "iam:PassRole", role)
    assert not iam.allows(policy, "iam:PassRole", role.replace("vpc-fn-role", "admin"))
    mine = tune_copy.copy_name("vpc-fn", "abc123")
    assert iam.allows(policy, "lambda:CreateFunction", LAMBDA_ARN + mine)
    assert iam.allows(policy, "lambda:InvokeFunction", f"{LAMBDA_ARN}{mine}:3")
    # copies of another function whose name starts the same are not this policy's
    assert not iam.allows(policy, "lambda:DeleteFunction", LAMBDA_ARN + tune_copy.copy_name("vpc-fn-prod", "abc123"))
    assert not iam.allows(policy, "lambda:CreateFunction", LAMBDA_ARN + "anything")
    assert not iam.allows(policy, "logs:DeleteLogGroup", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/vpc-fn")
    for mode in (False, True):
        rendered = tune_policy.render(tuned, in_place=mode)
        assert not iam.allows(rendered, "lambda:DeleteFunction", LAMBDA_ARN + "vpc-fn"), "never the function itself"
        for effect, action, resource in iam.rows(rendered):
            assert effect == "Allow" and "*" not in action.split(":")[1]
            assert resource != "*" or action in EC2_CHECKS, (action, resource)
            assert "REGION" not in resource and "FUNCTION_NAME" not in resource and "_ARN" not in resource


def test_the_template_names_what_render_fills_in():
    doc = tune_policy.template()
    sids = [s["Sid"] for s in doc["Statement"]]
    assert sorted(sids) == sorted([*tune_policy.ALWAYS, *tune_policy.COPY, tune_policy.LAYERS, tune_policy.VPC,
                                   tune_policy.IMAGE, *tune_policy.IN_PLACE])
    assert all(s.isalnum() for s in sids), "IAM Sids are letters and digits"
    text = json.dumps(doc)
    for token in ("REGION", "ACCOUNT_ID", "FUNCTION_NAME", "COPY_STEM", "ROLE_ARN", "ALIAS_PREFIX"):
        assert token in text


def test_an_image_from_another_account_needs_its_repository(lam):
    cfg = {"FunctionArn": LAMBDA_ARN + "img", "Role": f"arn:aws:iam::{ACCOUNT}:role/r", "PackageType": "Image"}
    other = "222233334444.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:" + "a" * 64
    policy = tune_policy.render(cfg, image_uri=other)
    assert iam.allows(policy, "ecr:BatchGetImage", "arn:aws:ecr:us-east-1:222233334444:repository/team/app")
    same = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app:latest"
    assert not iam.allows(tune_policy.render(cfg, image_uri=same), "ecr:BatchGetImage")


def test_cli_prints_the_rendered_policy(lam, capsys):
    assert cli.main(["tune", "--function", FN, "--policy", "--region", "us-east-1"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == tune_policy.render(lam.get_function_configuration(FunctionName=FN))
    assert cli.main(["tune", "--function", FN, "--policy", "--in-place", "--region", "us-east-1"]) == 0
    assert "InPlaceChangeTheFunction" in capsys.readouterr().out
    assert set(printed["Statement"][0]["Action"]) == {f"lambda:{op}" for op in READS}
