"""The tuner's least-privilege IAM policy, rendered for one function from ``iam/workbook-tuner-policy.json``.

The shipped file is a template: its resources name ``REGION``, ``ACCOUNT_ID``, ``FUNCTION_NAME``, ``COPY_STEM``
(``lwb-tune-<name>``, cut to fit), ``ALIAS_PREFIX``, ``ROLE_ARN``, ``LAYER_VERSION_ARNS`` and
``ECR_REPOSITORY_ARN``. :func:`render` fills them in from the function's configuration and keeps only the
statements the chosen mode needs:

* always ``ReadTheFunction`` (the original is only read when a copy is tuned);
* tuning a copy: create, configure, publish, invoke and delete functions named ``<COPY_STEM>-<6 characters>``,
  delete their log groups, ``iam:PassRole`` of the function's own role to Lambda only; with layers
  ``lambda:GetLayerVersion`` on those layer versions; in a VPC the three ``ec2:Describe*`` actions Lambda checks
  for the caller (they have no resource-level permissions); an image from another account's ECR repository the
  two pull actions on that repository;
* ``--in-place``: update and publish the function, create/delete/invoke aliases ``<ALIAS_PREFIX>-*`` and delete
  its versions (qualified ARNs only: the function itself can never be deleted).

Which caller permissions layers, VPCs and cross-account images need: "Granting users access to a Lambda
layer" (https://docs.aws.amazon.com/lambda/latest/dg/permissions-user-layer.html), "Giving Lambda functions
access to resources in an Amazon VPC" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html),
and the re:Post article on Lambda and ECR image permissions
(https://repost.aws/knowledge-center/lambda-ecr-image). A function whose configuration is encrypted with a
customer managed KMS key needs that key's permissions as well; they are not in the template.
"""

from __future__ import annotations

import copy as _copy
import json
import re
from pathlib import Path
from typing import Any

from . import tune_copy

ALWAYS = ("ReadTheFunction",)
COPY = ("TuneTemporaryCopies", "DeleteTheCopiesLogGroups", "PassTheFunctionsRoleToTheCopies")
LAYERS, VPC, IMAGE = "CopiesUseTheFunctionsLayers", "CopiesJoinTheFunctionsVpc", "CopiesPullTheImageFromAnotherAccount"
IN_PLACE = ("InPlaceChangeTheFunction", "InPlaceTemporaryAliases", "InPlaceInvokeTheTemporaryAliases",
            "InPlaceDeleteTemporaryVersions")


def policy_path() -> Path:
    from .. import datafiles

    return datafiles.project_root() / "iam" / "workbook-tuner-policy.json"


def template() -> dict[str, Any]:
    return json.loads(policy_path().read_text(encoding="utf-8"))


def _ecr_repository_arn(image_uri: str, partition: str) -> tuple[str, str] | None:
    """``(account, repository ARN)`` of an ECR image URI (``<acct>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]``)."""
    m = re.match(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)", image_uri or "")
    if not m:
        return None
    account, region, repo = m.groups()
    return account, f"arn:{partition}:ecr:{region}:{account}:repository/{repo}"


def render(config: dict[str, Any], *, in_place: bool = False, image_uri: str | None = None,
           alias_prefix: str = tune_copy.PREFIX, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    """The policy for tuning the function whose ``GetFunctionConfiguration`` answer is ``config``."""
    arn = config.get("FunctionArn") or ""
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
        raise ValueError(f"FunctionArn must be a Lambda function ARN, got {arn!r}")
    partition, region, account, name = parts[1], parts[3], parts[4], parts[6]
    tokens = {"REGION": region, "ACCOUNT_ID": account, "FUNCTION_NAME": name,
              "COPY_STEM": tune_copy.name_stem(name, alias_prefix), "ALIAS_PREFIX": alias_prefix,
              "ROLE_ARN": config.get("Role") or ""}
    wanted = set(ALWAYS)
    lists: dict[str, list[str]] = {}
    if in_place:
        wanted |= set(IN_PLACE)
    else:
        wanted |= set(COPY)
        layers = [layer["Arn"] for layer in config.get("Layers") or []]
        if layers:
            wanted.add(LAYERS)
            lists["LAYER_VERSION_ARNS"] = layers
        if (config.get("VpcConfig") or {}).get("SubnetIds"):
            wanted.add(VPC)
        repo = _ecr_repository_arn(image_uri or "", partition)
        if repo and repo[0] != account:
            wanted.add(IMAGE)
            tokens["ECR_REPOSITORY_ARN"] = repo[1]
    out = _copy.deepcopy(doc or template())
    out["Statement"] = [_fill(st, tokens, lists, partition) for st in out["Statement"] if st.get("Sid") in wanted]
    return out


def _fill(value: Any, tokens: dict[str, str], lists: dict[str, list[str]], partition: str) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, tokens, lists, partition) for k, v in value.items()}
    if isinstance(value, list):
        out: list[Any] = []
        for v in value:
            filled = _fill(v, tokens, lists, partition)
            out.extend(filled if isinstance(v, str) and v in lists else [filled])
        return out
    if isinstance(value, str):
        if value in lists:
            return list(lists[value])
        if partition != "aws" and value.startswith("arn:aws:"):
            value = f"arn:{partition}:" + value[len("arn:aws:"):]
        pattern = r"\b(" + "|".join(sorted(map(re.escape, tokens), key=len, reverse=True)) + r")\b"
        return re.sub(pattern, lambda m: tokens[m.group(1)], value)  # one pass: values are never re-read
    return value


def for_function_in(function_name: str, *, profile: str | None = None, region: str | None = None,
                    in_place: bool = False) -> dict[str, Any]:
    """:func:`for_function` with a client of ``profile`` in ``region``; an AWS failure is an :class:`.errors.AwsError`."""
    import boto3

    from . import errors

    with errors.translating(profile=profile, region=region, service="lambda", policy="iam/workbook-tuner-policy.json"):
        client = boto3.Session(profile_name=profile or None, region_name=region).client("lambda")
        return for_function(client, function_name, in_place=in_place)


def for_function(client, function_name: str, *, in_place: bool = False) -> dict[str, Any]:
    """Read the function (``GetFunctionConfiguration``; ``GetFunction`` for an image's URI) and render its policy."""
    cfg = client.get_function_configuration(FunctionName=function_name)
    cfg.pop("Environment", None)
    image_uri = None
    if cfg.get("PackageType") == "Image" and not in_place:
        got = client.get_function(FunctionName=function_name)
        image_uri = (got.get("Code") or {}).get("ImageUri")
        got.clear()
    return render(cfg, in_place=in_place, image_uri=image_uri)
