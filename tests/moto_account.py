"""A fake AWS account for the scan's tests and benchmark: moto in server mode, seeded from the sample account.

* :class:`MotoServer` runs ``ThreadedMotoServer`` on 127.0.0.1 and a random free port (real HTTP, so papermill
  kernels reach it through ``AWS_ENDPOINT_URL``).
* :func:`seed_sample` creates functions, roles, triggers, CloudWatch datapoints and REPORT log lines from
  ``data/sample-account`` in the sample's own accounts (moto separates accounts by the ``x-moto-account-id``
  header), moved in time so that the sample's last days end at ``end``.
* :func:`write_profiles` creates an IAM user with an access key per account and writes a credentials file, so
  the scan authenticates as each account through named profiles, like it would against AWS.
* :class:`FaultProxy` sits between the scan and moto and answers chosen operations with throttling, access
  denied, or pages moto does not produce.
* :func:`speed_up_moto_metrics` replaces moto's ``get_metric_data``, which compares every stored datapoint with
  every period of every query (hours for a 14-day, 1-minute window), by an indexed implementation that returns
  the same results (``test_aws_scan`` checks that against moto's own on a small set).
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import re
import threading
import urllib.parse
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
from botocore.config import Config

REGION = "us-east-1"
SEED_CONFIG = Config(retries={"total_max_attempts": 3, "mode": "standard"}, disable_request_compression=True)


# -- server -------------------------------------------------------------------------------------------------
class MotoServer:
    """moto in server mode on 127.0.0.1, random free port."""

    def __init__(self):
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.stop()


def client(endpoint: str, service: str, account: str, region: str = REGION):
    """A client acting inside one moto account (for seeding only)."""
    c = boto3.client(service, region_name=region, endpoint_url=endpoint, aws_access_key_id="seed",
                     aws_secret_access_key="seed", config=SEED_CONFIG)

    def add_account(request, **_):
        request.headers["x-moto-account-id"] = account

    c.meta.events.register("before-sign.*.*", add_account)
    return c


def write_profiles(endpoint: str, folder: Path, accounts: dict[str, str], default: str | None = None) -> dict:
    """Profiles ``{name: account}`` backed by real moto access keys; returns the environment to use them."""
    folder.mkdir(parents=True, exist_ok=True)
    creds, config = [], []
    for name, account in accounts.items():
        iam = client(endpoint, "iam", account)
        user = f"workbook-{name}"
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        for section in [name] + (["default"] if name == default else []):
            creds.append(f"[{section}]\naws_access_key_id = {key['AccessKeyId']}\n"
                         f"aws_secret_access_key = {key['SecretAccessKey']}\n")
            config.append(f"[{'default' if section == 'default' else 'profile ' + section}]\nregion = {REGION}\n")
    (folder / "credentials").write_text("\n".join(creds))
    (folder / "config").write_text("\n".join(config))
    return {"AWS_SHARED_CREDENTIALS_FILE": str(folder / "credentials"), "AWS_CONFIG_FILE": str(folder / "config"),
            "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": REGION}


AWS_ENV_TO_CLEAR = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                    "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


def use_env(mp, env: dict[str, str]) -> None:
    """With a pytest ``MonkeyPatch``: clear this shell's AWS credentials and settings, then set ``env``
    (from :func:`write_profiles`) so that boto3, and kernels started meanwhile, talk to moto."""
    for name in AWS_ENV_TO_CLEAR:
        mp.delenv(name, raising=False)
    for name, value in env.items():
        mp.setenv(name, value)


def hook_sessions(mp, hooks: list[tuple[str, object]]) -> None:
    """With a pytest ``MonkeyPatch``: register botocore ``(event, handler)`` hooks on every session the scan
    makes (``sources.aws.make_session``)."""
    from lambda_workbook.sources import aws

    original = aws.make_session

    def hooked(profile, region):
        session = original(profile, region)
        for event, fn in hooks:
            session.events.register(event, fn)
        return session

    mp.setattr(aws, "make_session", hooked)


# -- faster get_metric_data ------------------------------------------------------------------------------------
_ORIGINAL = {}


def speed_up_moto_metrics():
    """Install the indexed ``get_metric_data`` in this process's moto; returns moto's original method."""
    from moto.cloudwatch.models import CloudWatchBackend

    if "get_metric_data" not in _ORIGINAL:
        _ORIGINAL["get_metric_data"] = CloudWatchBackend.get_metric_data
        CloudWatchBackend.get_metric_data = _indexed_get_metric_data
    return _ORIGINAL["get_metric_data"]


def _indexed_get_metric_data(self, queries, start_time, end_time, scan_by="TimestampAscending"):
    from moto.cloudwatch.exceptions import ValidationError
    from moto.cloudwatch.models import Statistics

    if any("MetricStat" not in q for q in queries):
        return _ORIGINAL["get_metric_data"](self, queries, start_time, end_time, scan_by)
    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    if start_time > end_time:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start_time == end_time:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    by_dims, by_name = defaultdict(list), defaultdict(list)
    for md in self.get_all_metrics():
        if start_time <= md.timestamp < end_time:
            by_dims[(md.name, tuple(sorted((d.name, d.value) for d in md.dimensions)))].append(md)
            by_name[(md.namespace, md.name)].append(md)
    results = []
    for query in queries:
        ms = query["MetricStat"]
        metric = ms["Metric"]
        dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
        found = by_dims[(metric["MetricName"], dims)] if dims else by_name[(metric["Namespace"], metric["MetricName"])]
        if ms.get("Unit"):
            found = [md for md in found if md.unit == ms["Unit"]]
        period = timedelta(seconds=int(ms["Period"]))
        buckets = defaultdict(list)
        for md in found:
            buckets[(md.timestamp - start_time) // period].append(md)
        values, stamps = [], []
        for k in sorted(buckets):
            stats = Statistics([ms["Stat"]], start_time + k * period)
            stats.metric_data = buckets[k]
            values.append(stats.get_statistics_for_type(ms["Stat"]))
            stamps.append(stats.timestamp)
        if scan_by == "TimestampDescending":
            values.reverse()
            stamps.reverse()
        label = query.get("Label") or f"{metric['MetricName']} {ms['Stat']}"
        if query.get("ReturnData", True):
            results.append({"id": query["Id"], "label": label, "values": values, "timestamps": stamps,
                            "status_code": "Complete"})
    return results


# -- seeding ----------------------------------------------------------------------------------------------------
def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


ZIP = _zip()


@dataclass
class Seeded:
    """What was put into moto, for the tests to compare the scan with."""

    functions: pd.DataFrame
    metrics: pd.DataFrame       # sample metric rows as seeded (shifted timestamps)
    lines: pd.DataFrame         # REPORT lines as seeded (shifted timestamps)
    start: pd.Timestamp
    end: pd.Timestamp
    canaries: list[str]


class _Account:
    """Per-account seeding state: shared resources are created once."""

    def __init__(self, endpoint: str, account: str, region: str = REGION):
        self.endpoint = endpoint
        self.account = account
        self.region = region
        self.c = {}
        self.basic_policy = None
        self.http_api = None
        self.rest_api = None

    def __call__(self, service: str):
        if service not in self.c:
            self.c[service] = client(self.endpoint, service, self.account, self.region)
        return self.c[service]


#: The trust policy of an execution role: Lambda may assume it.
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]})


def _role(acct: _Account, name: str, roles: pd.DataFrame) -> str:
    iam = acct("iam")
    arn = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
    mine = roles[roles["role_arn"] == arn]
    for policy_name, rows in mine.groupby("policy_name", sort=False):
        doc = {"Version": "2012-10-17", "Statement": [
            {"Effect": r.effect, "Action": r.action, "Resource": r.resource} for r in rows.itertuples()]}
        if policy_name == "AWSLambdaBasicExecutionRole":
            if acct.basic_policy is None:
                try:
                    acct.basic_policy = iam.create_policy(PolicyName=policy_name,
                                                          PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
                except iam.exceptions.EntityAlreadyExistsException:
                    acct.basic_policy = f"arn:aws:iam::{acct.account}:policy/{policy_name}"
            iam.attach_role_policy(RoleName=f"{name}-role", PolicyArn=acct.basic_policy)
        else:
            iam.put_role_policy(RoleName=f"{name}-role", PolicyName=policy_name, PolicyDocument=json.dumps(doc))
    return arn


def _trigger(acct: _Account, fn_arn: str, t) -> None:
    lam = acct("lambda")
    name = fn_arn.rsplit(":", 1)[-1]
    kind = t.source_type
    window = {} if np.isnan(t.batch_window_s) else {"MaximumBatchingWindowInSeconds": int(t.batch_window_s)}
    if kind in ("sqs", "sqs-fifo"):
        q = acct("sqs").create_queue(QueueName=t.source_arn.rsplit(":", 1)[-1])["QueueUrl"]
        arn = acct("sqs").get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=int(t.batch_size), **window)
    elif kind == "kinesis":
        stream = t.source_arn.rsplit("/", 1)[-1]
        acct("kinesis").create_stream(StreamName=stream, ShardCount=4)
        arn = acct("kinesis").describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=int(t.batch_size),
                                        StartingPosition="LATEST", ParallelizationFactor=int(t.parallelization), **window)
    elif kind == "dynamodb-streams":
        table = t.source_arn.split(":table/")[1].split("/")[0]
        desc = acct("dynamodb").create_table(
            TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]
        lam.create_event_source_mapping(EventSourceArn=desc["LatestStreamArn"], FunctionName=name,
                                        BatchSize=int(t.batch_size), StartingPosition="LATEST",
                                        ParallelizationFactor=int(t.parallelization), **window)
    elif kind == "sns":
        topic = acct("sns").create_topic(Name=t.source_arn.rsplit(":", 1)[-1])["TopicArn"]
        acct("sns").subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn_arn)
    elif kind == "eventbridge":
        rule = t.source_arn.rsplit("/", 1)[-1]
        spec = {"ScheduleExpression": t.detail.removeprefix("schedule ")} if t.detail.startswith("schedule ") \
            else {"EventPattern": json.dumps({"source": ["app"], "detail-type": [t.detail]})}
        acct("events").put_rule(Name=rule, **spec)
        acct("events").put_targets(Rule=rule, Targets=[{"Id": "1", "Arn": fn_arn}])
    elif kind == "s3":
        bucket = t.source_arn.rsplit(":", 1)[-1]
        events, _, _ = t.detail.partition(" on ")
        acct("s3").create_bucket(Bucket=bucket)
        acct("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn_arn, "Events": events.split(",")}]})
    elif kind == "apigw-http":
        v2 = acct("apigatewayv2")
        if acct.http_api is None:
            acct.http_api = v2.create_api(Name="public", ProtocolType="HTTP")["ApiId"]
        integ = v2.create_integration(ApiId=acct.http_api, IntegrationType="AWS_PROXY", IntegrationUri=fn_arn,
                                      PayloadFormatVersion="2.0")["IntegrationId"]
        v2.create_route(ApiId=acct.http_api, RouteKey=f"ANY /{name}", Target=f"integrations/{integ}")
    elif kind == "apigw-rest":
        ag = acct("apigateway")
        if acct.rest_api is None:
            acct.rest_api = ag.create_rest_api(name="catalog")["id"]
        root = next(r["id"] for r in ag.get_resources(restApiId=acct.rest_api)["items"] if r["path"] == "/")
        res = ag.create_resource(restApiId=acct.rest_api, parentId=root, pathPart=name)["id"]
        ag.put_method(restApiId=acct.rest_api, resourceId=res, httpMethod="GET", authorizationType="NONE")
        ag.put_integration(restApiId=acct.rest_api, resourceId=res, httpMethod="GET", type="AWS_PROXY",
                           integrationHttpMethod="POST",
                           uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn}/invocations")
    elif kind == "function-url":
        lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    elif kind == "invoke-sync":
        api = t.source_arn.rsplit(":", 1)[-1]
        lam.add_permission(FunctionName=name, StatementId="authorizer", Action="lambda:InvokeFunction",
                           Principal="apigateway.amazonaws.com",
                           SourceArn=f"arn:aws:execute-api:{REGION}:{acct.account}:{api}/authorizers/abc123")


#: CloudWatch statistic sets per sample metric: how one seeded datum reproduces the sample's values.
_SUM = {"Invocations", "Errors", "Throttles", "ProvisionedConcurrencyInvocations",
        "ProvisionedConcurrencySpilloverInvocations"}


def metric_datums(metrics: pd.DataFrame, resource: dict[str, str] | None = None) -> list[dict]:
    """PutMetricData items reproducing sample rows (Sum as Value; Average/Maximum as StatisticValues)."""
    resource = resource or {}
    m = metrics[~metrics["stat"].str.startswith("p")]
    wide = m.pivot_table(index=["function_name", "metric", "timestamp"], columns="stat", values="value",
                         aggfunc="first").reset_index()
    for col in ("Sum", "Average", "Maximum"):
        if col not in wide:
            wide[col] = np.nan
    wide["Maximum"] = wide["Maximum"].fillna(wide["Average"])
    wide["Average"] = wide["Average"].fillna(wide["Maximum"])
    out = []
    for fn, metric, ts, total, avg, mx in zip(wide["function_name"], wide["metric"], wide["timestamp"],
                                              wide["Sum"], wide["Average"], wide["Maximum"], strict=True):
        dims = [{"Name": "FunctionName", "Value": fn}]
        if metric.startswith("ProvisionedConcurren") and fn in resource:
            dims.append({"Name": "Resource", "Value": f"{fn}:{resource[fn]}"})
        item = {"MetricName": metric, "Dimensions": dims, "Timestamp": ts.to_pydatetime()}
        if metric in _SUM:
            item["Value"] = float(total)
        else:
            item["StatisticValues"] = {"SampleCount": 1.0, "Sum": float(avg), "Minimum": float(min(avg, mx)),
                                       "Maximum": float(mx)}
        out.append(item)
    return out


def put_metrics(cw, datums: list[dict], batch: int = 500) -> int:
    for i in range(0, len(datums), batch):
        cw.put_metric_data(Namespace="AWS/Lambda", MetricData=datums[i:i + batch])
    return -(-len(datums) // batch)


def put_lines(logs, group: str, stamps_ms: list[int], messages: list[str], stream: str = "2026/11/01/[$LATEST]seed"):
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    events = sorted(zip(stamps_ms, messages, strict=True))
    for i in range(0, len(events), 5000):
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": int(t), "message": m} for t, m in events[i:i + 5000]])


def seed_sample(endpoint: str, sample, names: list[str], *, days: int, end: pd.Timestamp,
                canary: str = "canary") -> Seeded:
    """Seed moto with the sample account's ``names``, its last ``days`` days moved to end at ``end``."""
    f = sample.functions.set_index("function_name")
    sample_end = pd.Timestamp(sample.manifest["end"])
    sample_start = pd.Timestamp(sample.manifest["start"])
    shift = end - sample_end
    start = end - pd.Timedelta(days=days)
    accounts: dict[str, _Account] = {}
    canaries, seeded_metrics, seeded_lines = [], [], []
    for name in names:
        row = f.loc[name]
        acct = accounts.setdefault(row.account_id, _Account(endpoint, row.account_id))
        role = _role(acct, name, sample.roles)
        env = {}
        for var in [v for v in row.env_var_names.split(";") if v]:
            env[var] = f"{canary}-{name}-{var}".replace("_", "-")
            canaries.append(env[var])
        lam = acct("lambda")
        arn = lam.create_function(
            FunctionName=name, Runtime=row.runtime, Role=role, Handler=row.handler, Code={"ZipFile": ZIP},
            MemorySize=int(row.memory_mb), Timeout=int(row.timeout_s), Architectures=[row.arch],
            EphemeralStorage={"Size": int(row.ephemeral_storage_mb)}, Environment={"Variables": env},
            TracingConfig={"Mode": row.tracing_mode}, Description=row.description,
            LoggingConfig={"LogFormat": row.log_format, "LogGroup": row.log_group})["FunctionArn"]
        if not np.isnan(row.reserved_concurrency):
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=int(row.reserved_concurrency))
        for t in sample.triggers[sample.triggers["function_name"] == name].itertuples():
            _trigger(acct, arn, t)
        m = sample.metrics[(sample.metrics["function_name"] == name) & (sample.metrics["metric"] != "Timeouts")].copy()
        m["timestamp"] = m["timestamp"] + shift
        m = m[m["timestamp"] >= start]
        seeded_metrics.append(m)
        put_metrics(acct("cloudwatch"), metric_datums(m))
        lines = sample.report_samples[sample.report_samples["function_name"] == name].copy()
        scale = (end - start) / (sample_end - sample_start)
        lines["timestamp"] = start + (lines["timestamp"] - sample_start) * scale
        seeded_lines.append(lines)
        put_lines(acct("logs"), row.log_group, [int(t.value // 1_000_000) for t in lines["timestamp"]],
                  list(lines["message"]))
    return Seeded(sample.functions[sample.functions["function_name"].isin(names)].reset_index(drop=True),
                  pd.concat(seeded_metrics, ignore_index=True), pd.concat(seeded_lines, ignore_index=True),
                  start, end, canaries)


def report_line(i: int, rng: np.random.Generator, memory_mb: int, timeout: bool = False) -> str:
    dur = float(rng.lognormal(4.0, 0.5))
    used = int(min(memory_mb, 60 + rng.integers(0, 40)))
    cold = f"\tInit Duration: {rng.uniform(150, 400):.2f} ms" if i % 25 == 0 else ""
    status = "\tStatus: timeout" if timeout else ""
    return (f"REPORT RequestId: {i:08d}-0000-4000-8000-{rng.integers(0, 16**12):012x}\tDuration: {dur:.2f} ms\t"
            f"Billed Duration: {int(np.ceil(dur))} ms \tMemory Size: {memory_mb} MB\tMax Memory Used: {used} MB"
            f"{cold}{status}\t")


def seed_synthetic(endpoint: str, account: str, n: int, *, days: int, end: pd.Timestamp, region: str = REGION,
                   prefix: str = "fn", points_per_day: int = 24, lines: int = 20, sqs_every: int = 3,
                   seed: int = 7, progress=None) -> list[str]:
    """``n`` small functions with an SQS trigger on every ``sqs_every``-th, metrics at ``points_per_day``
    aligned timestamps (Invocations, Errors, Duration, ConcurrentExecutions) and ``lines`` REPORT lines each."""
    rng = np.random.default_rng(seed)
    acct = _Account(endpoint, account, region)
    iam = acct("iam")
    try:
        role = iam.create_role(RoleName=f"{prefix}-role", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        iam.put_role_policy(RoleName=f"{prefix}-role", PolicyName="logs", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}))
    except iam.exceptions.EntityAlreadyExistsException:
        role = f"arn:aws:iam::{account}:role/{prefix}-role"
    start = end - pd.Timedelta(days=days)
    step = pd.Timedelta(hours=24 / points_per_day)
    stamps = [t.to_pydatetime() for t in pd.date_range(start, end - step, freq=step)]
    names, datums = [], []
    lam = acct("lambda")
    for i in range(n):
        name = f"{prefix}-{i:04d}"
        names.append(name)
        memory = int(rng.choice([128, 256, 512, 1024]))
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": ZIP}, MemorySize=memory, Timeout=30,
                            Environment={"Variables": {"LOG_LEVEL": "info"}})
        if sqs_every and i % sqs_every == 0:
            q = acct("sqs").create_queue(QueueName=f"{name}-queue")["QueueUrl"]
            arn = acct("sqs").get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10)
        dims = [{"Name": "FunctionName", "Value": name}]
        for ts in stamps:
            inv = float(rng.integers(1, 500))
            dur = float(rng.lognormal(4.0, 0.5))
            datums += [
                {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": ts, "Value": inv},
                {"MetricName": "Errors", "Dimensions": dims, "Timestamp": ts, "Value": float(rng.integers(0, 3))},
                {"MetricName": "Duration", "Dimensions": dims, "Timestamp": ts, "StatisticValues": {
                    "SampleCount": inv, "Sum": dur * inv, "Minimum": dur / 2, "Maximum": dur * 3}},
                {"MetricName": "ConcurrentExecutions", "Dimensions": dims, "Timestamp": ts, "StatisticValues": {
                    "SampleCount": 1.0, "Sum": 2.0, "Minimum": 2.0, "Maximum": 2.0}},
            ]
        if lines:
            oldest = max(start, pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=14) + pd.Timedelta(hours=1))
            when = np.sort(rng.integers(int(oldest.value // 1_000_000) + 1, int(end.value // 1_000_000) - 1, lines))
            put_lines(acct("logs"), f"/aws/lambda/{name}", list(when),
                      [report_line(k, rng, memory, timeout=(k == 3 and i % 7 == 0)) for k in range(lines)])
        if len(datums) >= 5000:
            put_metrics(acct("cloudwatch"), datums, batch=1000)
            datums = []
        if progress:
            progress(1)
    put_metrics(acct("cloudwatch"), datums, batch=1000)
    return names


# -- fault-injecting proxy -----------------------------------------------------------------------------------------
_REST_OPS = [
    ("GET", r"^/2015-03-31/functions/?$", "ListFunctions"),
    ("GET", r"^/2019-09-30/functions/[^/]+/concurrency$", "GetFunctionConcurrency"),
    ("GET", r"^/2015-03-31/functions/[^/]+/aliases$", "ListAliases"),
    ("GET", r"^/2019-09-30/functions/[^/]+/provisioned-concurrency$", "ListProvisionedConcurrencyConfigs"),
    ("GET", r"^/2021-10-31/functions/[^/]+/urls$", "ListFunctionUrlConfigs"),
    ("GET", r"^/2015-03-31/functions/[^/]+/policy$", "GetPolicy"),
    ("GET", r"^/2015-03-31/functions/[^/]+/configuration$", "GetFunctionConfiguration"),
    ("GET", r"^/2015-03-31/event-source-mappings/?$", "ListEventSourceMappings"),
    ("GET", r"^/restapis$", "GetRestApis"),
    ("GET", r"^/restapis/[^/]+/resources$", "GetResources"),
    ("GET", r"^/v2/apis$", "GetApis"),
    ("GET", r"^/v2/apis/[^/]+/integrations$", "GetIntegrations"),
    ("GET", r"^/v2/apis/[^/]+/routes$", "GetRoutes"),
]


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    op: str
    protocol: str


@dataclass
class Rule:
    op: str
    respond: object                # callable(Request, forward) -> (status, headers, body)
    times: int | None = None       # None: every time
    when: object = None            # callable(Request) -> bool


def _operation(method: str, path: str, headers: dict, body: bytes) -> tuple[str, str]:
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1], "json"
    if "/operation/" in path:
        return path.rsplit("/", 1)[-1], "cbor"
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        action = urllib.parse.parse_qs(body.decode()).get("Action", ["?"])[0]
        return action, "query"
    for m, pattern, op in _REST_OPS:
        if method == m and re.match(pattern, path):
            return op, "rest-json"
    return f"{method} {path}", "rest"


def error(protocol: str, status: int, code: str, message: str = "injected by the test proxy"):
    """An AWS-shaped error response for the request's protocol."""
    if protocol == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>proxy</RequestId></ErrorResponse>").encode()
        return status, {"Content-Type": "text/xml"}, body
    if protocol == "json":
        return status, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(
            {"__type": code, "message": message}).encode()
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, json.dumps(
        {"message": message, "Message": message, "Type": "User"}).encode()


class FaultProxy:
    """An HTTP proxy in front of moto that applies :class:`Rule` s and counts every operation it sees."""

    def __init__(self, upstream: str):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.rules: list[Rule] = []
        self.seen: Counter = Counter()
        self.answered: Counter = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, out = proxy.handle(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, op: str, respond, times: int | None = None, when=None) -> Rule:
        rule = Rule(op, respond, times, when)
        self.rules.append(rule)
        return rule

    def forward(self, req: Request, path: str | None = None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=120)
        headers = {k: v for k, v in req.headers.items() if k.lower() not in ("host", "content-length")}
        headers["Host"] = self.upstream.netloc
        conn.request(req.method, path or req.path, body=req.body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out = resp.status, dict(resp.getheaders()), data
        conn.close()
        return out

    def handle(self, method: str, raw_path: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        lower = {k.lower(): v for k, v in headers.items()}
        split = urllib.parse.urlsplit(raw_path)
        op, protocol = _operation(method, split.path, lower, body)
        req = Request(method, raw_path, dict(urllib.parse.parse_qsl(split.query)), lower, body, op, protocol)
        with self._lock:
            self.seen[op] += 1
            rule = next((r for r in self.rules if r.op == op and (r.times is None or r.times > 0)
                         and (r.when is None or r.when(req))), None)
            if rule is not None and rule.times is not None:
                rule.times -= 1
            if rule is not None:
                self.answered[op] += 1
        if rule is None:
            return self.forward(req)
        return rule.respond(req, self.forward)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class InsightsEmulator:
    """Answers the workbook's two Logs Insights queries through a :class:`FaultProxy` as CloudWatch would,
    because moto runs no ``stats``: the statistics come from the REPORT lines moto holds (read here with
    FilterLogEvents, outside the scan's count). The first poll of every query says Running."""

    def __init__(self, proxy: FaultProxy, endpoint: str, account: str, region: str = REGION):
        from lambda_workbook import logs as _logs
        from lambda_workbook.sources import aws_logs

        self._parse, self._stats, self._timeouts_query = _logs.parse_reports, aws_logs.report_stats, aws_logs.TIMEOUTS_QUERY
        self.account = account
        self.logs = client(endpoint, "logs", account, region)
        self.queries: dict[str, dict] = {}
        self.polls: Counter = Counter()
        self.groups: set[str] = set()
        self._lock = threading.Lock()
        proxy.add("StartQuery", self.start)
        proxy.add("GetQueryResults", self.results)
        proxy.add("StopQuery", lambda req, fwd: self._json({"success": True}))

    @staticmethod
    def _json(doc) -> tuple[int, dict, bytes]:
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(doc).encode()

    def _lines(self, group: str, start_s: int, end_s: int) -> list[tuple[int, str]]:
        pages = self.logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, startTime=start_s * 1000, endTime=end_s * 1000)
        return [(e["timestamp"], e["message"]) for page in pages for e in page["events"]]

    def start(self, req: Request, forward) -> tuple[int, dict, bytes]:
        body = json.loads(req.body)
        rows, scanned = [], 0
        for group in body["logGroupNames"]:
            lines = self._lines(group, body["startTime"], body["endTime"])
            scanned += sum(len(m.encode()) for _, m in lines)
            df = self._parse([m for _, m in lines])
            if df.empty:
                continue
            log = {"field": "@log", "value": f"{self.account}:{group}"}
            if body["queryString"] == self._timeouts_query:
                stamps = pd.to_datetime([lines[i][0] for i in df["line"]], unit="ms", utc=True)
                days = pd.Series(1, index=stamps[(df["status"] == "timeout").to_numpy()].floor("D"))
                rows += [[log, {"field": "bin(1d)", "value": day.strftime("%Y-%m-%d %H:%M:%S.000")},
                          {"field": "timeouts", "value": str(int(n))}] for day, n in days.groupby(level=0).sum().items()]
            else:
                stats = self._stats(df)
                rows.append([log] + [{"field": k, "value": repr(v)} for k, v in stats.items()
                                     if not (isinstance(v, float) and np.isnan(v))])
        with self._lock:
            qid = f"emulated-{len(self.queries)}"
            self.queries[qid] = {"body": body, "rows": rows, "bytes": scanned}
            self.groups.update(body["logGroupNames"])
        return self._json({"queryId": qid})

    def results(self, req: Request, forward) -> tuple[int, dict, bytes]:
        qid = json.loads(req.body)["queryId"]
        with self._lock:
            self.polls[qid] += 1
            first = self.polls[qid] == 1
        q = self.queries[qid]
        if first:
            return self._json({"status": "Running", "results": []})
        return self._json({"status": "Complete", "results": q["rows"],
                           "statistics": {"bytesScanned": float(q["bytes"]), "recordsMatched": 0.0,
                                          "recordsScanned": 0.0}})
