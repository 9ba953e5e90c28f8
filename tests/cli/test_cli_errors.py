"""Every command ends an expected failure with one line on stderr and exit code 2 (fix the input or the AWS
configuration) or 1 (a failure at run time); ``--debug`` adds the traceback. The CLI runs as a subprocess with no
AWS credentials and AWS_ENDPOINT_URL on a closed local port, or on a local server that answers every call with
one AWS error: nothing leaves the machine."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from botocore import exceptions as bx

from lambda_workbook import cli, params
from lambda_workbook.sources import errors

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CLOSED = f"http://127.0.0.1:{_closed_port()}"


def _env(endpoint: str = CLOSED, creds: bool = False, region: str | None = None, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_ENDPOINT_URL=endpoint,
               AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1", PYTHONWARNINGS="ignore", **extra)
    if creds:
        env.update(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="not-a-secret")
    if region:
        env["AWS_DEFAULT_REGION"] = region
    return env


def run(*argv: str, cwd: Path | None = None, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambda_workbook.cli", *argv], capture_output=True, text=True,
                          env=_env(**env), cwd=cwd or ROOT, timeout=240)


def one_line(proc: subprocess.CompletedProcess, code: int, *parts: str) -> str:
    """The process failed with ``code`` and a single stderr line holding every one of ``parts``."""
    err = proc.stderr.strip()
    assert proc.returncode == code, (proc.returncode, err[-3000:])
    assert "Traceback" not in err and len(err.splitlines()) == 1, err[-3000:]
    assert err.startswith(("lambda-workbook: error: ", "lambda-workbook tune: error: ")), err
    for part in parts:
        assert part in err, (part, err)
    return err


OUT = ["--out", "OUT"]
REVIEW_AWS = ["review", "--source", "aws", "--deep-dives", "none", "--quiet", *OUT]
TUNE = ["tune", "--function", "orders-api", "--memory", "128,256", "--quiet"]
POLICY = ["tune", "--function", "orders-api", "--policy"]
REFRESH = ["prices", "refresh", "--region", "us-east-1", "--quiet", *OUT]
SCAN = ["scan", "--quiet", *OUT]
R = ["--region", "us-east-1"]


def _argv(argv, tmp_path):
    return [str(tmp_path / "out") if a == "OUT" else a for a in argv]


NO_CREDENTIALS = "no AWS credentials found: set AWS_PROFILE or run `aws configure`"


@pytest.mark.parametrize(("argv", "hint"), [
    (REFRESH, "the bundled prices need none: lambda-workbook prices show"),
    ([*SCAN, "--regions", "us-east-1"], "the embedded sample account needs none: lambda-workbook review --source sample"),
    ([*REVIEW_AWS, *R], "lambda-workbook review --source sample"),
    ([*TUNE, *R], ""),
    ([*POLICY, *R], ""),
], ids=["prices-refresh", "scan", "review-aws", "tune", "tune-policy"])
def test_no_credentials_is_one_line_exit_2(argv, hint, tmp_path):
    one_line(run(*_argv(argv, tmp_path)), 2, NO_CREDENTIALS, hint)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [[*SCAN], [*REVIEW_AWS], [*TUNE], [*POLICY]],
                         ids=["scan", "review-aws", "tune", "tune-policy"])
def test_no_region_is_one_line_exit_2(argv, tmp_path):
    err = one_line(run(*_argv(argv, tmp_path), creds=True), 2, "region")
    assert "us-east-1" in err and "AWS_REGION" in err


@pytest.mark.parametrize(("argv", "option"), [
    ([*SCAN, "--regions", "moon"], "region 'moon'"),
    ([*REVIEW_AWS, "--region", "moon-1,"], "got 'moon-1'"),
    ([*TUNE, "--region", "moon"], "got 'moon'"),
    (["prices", "refresh", "--region", "US-EAST-1"], "got 'US-EAST-1'"),
])
def test_an_invalid_region_is_one_line_exit_2(argv, option, tmp_path):
    one_line(run(*_argv(argv, tmp_path), creds=True), 2, option, "us-east-1")


@pytest.mark.parametrize("argv", [[*REFRESH, "--profile", "nope"], [*SCAN, "--regions", "us-east-1", "--profile", "nope"],
                                  [*REVIEW_AWS, *R, "--profile", "nope"], [*TUNE, *R, "--profile", "nope"]],
                         ids=["prices-refresh", "scan", "review-aws", "tune"])
def test_a_profile_that_does_not_exist_is_one_line_exit_2(argv, tmp_path):
    one_line(run(*_argv(argv, tmp_path)), 2, "AWS profile 'nope' is not configured (profiles: none)",
             "aws configure --profile nope")


@pytest.mark.parametrize("argv", [REFRESH, [*SCAN, "--regions", "us-east-1"], [*REVIEW_AWS, *R], [*TUNE, *R]],
                         ids=["prices-refresh", "scan", "review-aws", "tune"])
def test_an_unreachable_endpoint_is_one_line_exit_1(argv, tmp_path):
    one_line(run(*_argv(argv, tmp_path), creds=True), 1, f"cannot reach AWS in us-east-1 at {CLOSED} ",
             "AWS_ENDPOINT_URL")


class _Refusing(ThreadingHTTPServer):
    """Answers every AWS call with one error code, in the shape its protocol uses (XML for query APIs such as
    STS, JSON with ``__type`` and the ``x-amzn-ErrorType`` header for JSON and REST-JSON APIs)."""

    daemon_threads = True

    def __init__(self, code: str, status: int = 403):
        self.code, self.status, self.seen = code, status, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.seen.append(self.headers.get("X-Amz-Target") or self.path)
                if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{server.code}</Code><Message>refused "
                            "by the test</Message></Error><RequestId>1</RequestId></ErrorResponse>").encode()
                    kind = "text/xml"
                else:
                    body = json.dumps({"__type": server.code, "message": "refused by the test"}).encode()
                    kind = "application/x-amz-json-1.1"
                self.send_response(server.status)
                self.send_header("Content-Type", kind)
                self.send_header("x-amzn-ErrorType", server.code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def refusing():
    servers = []

    def start(code: str, status: int = 403) -> _Refusing:
        servers.append(_Refusing(code, status))
        return servers[-1]

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.mark.parametrize(("argv", "code", "parts"), [
    (REFRESH, "AccessDeniedException", ["AWS denied GetProducts in us-east-1", "pricing:GetProducts"]),
    ([*TUNE, *R], "AccessDeniedException", ["AWS denied GetFunctionConfiguration in us-east-1",
                                            "lambda:GetFunctionConfiguration",
                                            "iam/workbook-tuner-policy.json grants what is needed"]),
    ([*POLICY, *R], "AccessDeniedException", ["lambda:GetFunctionConfiguration"]),
    ([*SCAN, "--regions", "us-east-1"], "AccessDeniedException", ["no account/region could be listed",
                                                                  "iam/workbook-readonly-policy.json"]),
    (REFRESH, "ExpiredTokenException", ["have expired (ExpiredTokenException", "aws sso login"]),
    ([*SCAN, "--regions", "us-east-1"], "ExpiredToken", ["have expired (ExpiredToken: refused by the test)"]),
    ([*TUNE, *R], "UnrecognizedClientException", ["AWS rejected the credentials"]),
], ids=["prices-denied", "tune-denied", "policy-denied", "scan-denied", "prices-expired", "scan-expired",
        "tune-rejected"])
def test_missing_permissions_and_expired_tokens_are_one_line_exit_2(argv, code, parts, refusing, tmp_path):
    server = refusing(code)
    one_line(run(*_argv(argv, tmp_path), endpoint=server.endpoint, creds=True), 2, *parts)
    assert server.seen, "the command reached the local endpoint"
    assert not (tmp_path / "out").exists()


def test_a_service_error_is_a_runtime_failure_exit_1(refusing, tmp_path):
    server = refusing("InternalFailure", 500)
    one_line(run(*REFRESH[:-1], str(tmp_path / "out"), endpoint=server.endpoint, creds=True), 1,
             "AWS GetProducts in us-east-1 failed (InternalFailure")


@pytest.mark.parametrize("argv", [
    ["triggers", "findings", "--source", "snapshot", "--snapshot", "no/such/dir"],
    ["reads", "findings", "--source", "snapshot", "--snapshot", "no/such/dir"],
    ["coldstarts", "analyse", "--source", "snapshot", "--snapshot", "no/such/dir"],
    ["review", "--source", "snapshot", "--snapshot", "no/such/dir", *OUT],
])
def test_a_snapshot_that_does_not_exist_is_one_line_exit_2(argv, tmp_path):
    one_line(run(*_argv(argv, tmp_path)), 2, "'no/such/dir' does not exist", "lambda-workbook scan --out DIR",
             "--source sample")


def test_a_snapshot_source_without_a_directory_is_one_line_exit_2():
    one_line(run("reads", "findings", "--source", "snapshot"), 2, "needs a snapshot directory", "--snapshot DIR")


@pytest.mark.parametrize(("text", "parts"), [
    ("top: [1\n", ["is not valid YAML", "line 2, column 1"]),
    ("top: 3\n\tdays: 2\n", ["is not valid YAML", "'\\t'", "line 2"]),
    ("- top\n", ["expected a mapping of review options"]),
    ("nonsense: 1\n", ["unknown option(s) ['nonsense']"]),
])
def test_a_bad_configuration_file_is_one_line_exit_2(text, parts, tmp_path):
    cfg = tmp_path / "review.yaml"
    cfg.write_text(text)
    one_line(run("review", "--config", str(cfg), *_argv(OUT, tmp_path)), 2, *parts)
    assert not (tmp_path / "out").exists()


def test_files_that_cannot_be_read_name_the_path(tmp_path):
    one_line(run("review", "--config", str(tmp_path / "none.yaml"), *_argv(OUT, tmp_path)), 2,
             f"{tmp_path / 'none.yaml'}: No such file or directory")
    one_line(run("review", "--config", str(tmp_path), *_argv(OUT, tmp_path)), 2, f"{tmp_path}: Is a directory")


def test_debug_adds_the_traceback_and_keeps_the_line_and_the_code(tmp_path):
    for argv in ([*REFRESH[:-1], str(tmp_path / "out"), "--debug"], ["--debug", *REFRESH[:-1], str(tmp_path / "out")]):
        proc = run(*argv)
        assert proc.returncode == 2
        err = proc.stderr.strip()
        assert "Traceback (most recent call last)" in err and "NoCredentialsError" in err, err[-2000:]
        assert err.splitlines()[-1].startswith("lambda-workbook: error: " + NO_CREDENTIALS)
    assert "--debug" in run("--help").stdout and "--debug" in run("scan", "--help").stdout


def test_cli_does_not_import_botocore():
    assert "botocore" not in (ROOT / "lib" / "lambda_workbook" / "cli.py").read_text()


# -- in process: the translation itself --------------------------------------------------------------------
def _client_error(code: str, op: str = "ListFunctions", status: int = 400, message: str = "no") -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": message},
                           "ResponseMetadata": {"HTTPStatusCode": status}}, op)


@pytest.mark.parametrize(("exc", "kind", "code", "text"), [
    (bx.NoCredentialsError(), errors.NoCredentials, 2, "no AWS credentials found"),
    (bx.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"), errors.NoCredentials, 2,
     "incomplete AWS credentials"),
    (bx.NoRegionError(), errors.NoRegion, 2, "no AWS region set"),
    (bx.ProfileNotFound(profile="ghost"), errors.ProfileNotFound, 2, "AWS profile 'ghost' is not configured"),
    (_client_error("AccessDenied", "GetCallerIdentity"), errors.AccessDenied, 2, "AWS denied GetCallerIdentity"),
    (_client_error("UnauthorizedOperation", "DescribeRegions"), errors.AccessDenied, 2, "UnauthorizedOperation"),
    (_client_error("ExpiredToken"), errors.ExpiredCredentials, 2, "have expired"),
    (_client_error("InvalidClientTokenId"), errors.ExpiredCredentials, 2, "rejected the credentials"),
    (_client_error("ThrottlingException"), errors.Unreachable, 1, "still throttled ListFunctions"),
    (_client_error("ServiceUnavailable", status=503, message="<html>busy</html>"), errors.Unreachable, 1,
     "an HTML page instead of an AWS response"),
    (bx.EndpointConnectionError(endpoint_url="https://lambda.us-east-1.amazonaws.com/2015-03-31/functions"),
     errors.Unreachable, 1, "at https://lambda.us-east-1.amazonaws.com (EndpointConnectionError)"),
    (bx.ReadTimeoutError(endpoint_url="https://x"), errors.Unreachable, 1, "cannot reach AWS"),
])
def test_botocore_errors_become_the_workbooks_own(exc, kind, code, text):
    got = errors.translate(exc, region="us-east-1", service="lambda")
    assert type(got) is kind and got.exit_code == code and text in str(got), str(got)
    assert "\n" not in str(got)
    assert cli.failure(got) == (code, str(got))


def test_a_denied_call_names_the_iam_action_and_the_policy():
    got = errors.translate(_client_error("AccessDeniedException", "GetBucketNotificationConfiguration"),
                           service="s3", profile="prod", policy="iam/workbook-readonly-policy.json")
    assert "to profile 'prod'" in str(got) and "s3:GetBucketNotification;" in str(got)
    assert str(got).endswith("iam/workbook-readonly-policy.json grants what is needed")


def test_configuration_errors_are_value_errors_and_others_pass_through():
    assert isinstance(errors.NoRegion("x"), ValueError) and not isinstance(errors.Unreachable("x"), ValueError)
    other = KeyError("x")
    assert errors.translate(other) is other
    with pytest.raises(errors.AccessDenied) as caught, errors.translating(service="lambda"):
        raise _client_error("AccessDeniedException")
    assert isinstance(caught.value.__cause__, bx.ClientError)


@pytest.mark.parametrize(("exc", "code", "line"), [
    (ValueError("bad\n  value"), 2, "bad value"),
    (KeyError("function 'f' is not in this snapshot"), 2, "function 'f' is not in this snapshot"),
    (FileNotFoundError(2, "No such file or directory", "x.yaml"), 2, "x.yaml: No such file or directory"),
    (PermissionError(13, "Permission denied", "/root/out"), 2, "/root/out: Permission denied"),
    (RuntimeError("the API gave nothing"), 1, "the API gave nothing"),
    (ZeroDivisionError("division by zero"), 1, "unexpected ZeroDivisionError: division by zero (run again with "
                                               "--debug for the traceback)"),
])
def test_failure_maps_an_exception_to_a_code_and_one_line(exc, code, line):
    assert cli.failure(exc) == (code, line)


# -- notebooks: a bad parameter stops the kernel with its one line -------------------------------------------
def test_a_parameter_error_renders_as_its_line_in_ipython():
    err = params.ParameterError("memory parameter 'top_n' must be >= 1; got 0")
    assert err._render_traceback_() == ["ParameterError: memory parameter 'top_n' must be >= 1; got 0"]
    assert isinstance(err, ValueError)
    assert errors.NoRegion("no AWS region set")._render_traceback_() == ["NoRegion: no AWS region set"]


def test_papermill_with_a_bad_parameter_shows_the_line_without_traceback_frames(tmp_path):
    import nbformat
    import papermill

    out = tmp_path / "memory.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(str(ROOT / "notebooks" / "memory.ipynb"), str(out), parameters={"top_n": 0},
                                   kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    line = "ParameterError: memory parameter 'top_n' must be >= 1 (functions shown in the savings chart); got 0"
    assert caught.value.traceback == [line]
    message = str(caught.value)
    assert line in message and "Traceback" not in message and "File " not in message and "---->" not in message
    assert len(message.strip().splitlines()) == 3, message
    (error,) = [o for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
    assert error["ename"] == "ParameterError" and error["traceback"] == [line]
