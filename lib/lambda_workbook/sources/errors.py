"""AWS failures as the workbook's own exceptions, each a one-line message naming what went wrong and what to do.

botocore's exceptions stop here, at the one I/O edge: :func:`translate` turns one into an :class:`AwsError`
and :func:`translating` does so for a block of calls (the botocore error stays chained as ``__cause__``, so a
debug traceback still shows it). The command line catches :class:`AwsError` and prints its message; its
``exit_code`` is 2 when the user's configuration has to change (credentials, profile, region, permissions) and 1
for a failure at run time (AWS unreachable, still throttled after retries, a service error). IPython shows the
message alone instead of a traceback (``_render_traceback_``), so a notebook stops with the same line.

This module imports botocore only inside :func:`translate`: the exception classes cost nothing to import.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

from .aws_policy import iam_action

__all__ = ["AccessDenied", "AwsConfigError", "AwsError", "ExpiredCredentials", "NoCredentials", "NoRegion",
           "ProfileNotFound", "Unreachable", "translate", "translating"]

#: The second half of the no-credentials line where the data can come from elsewhere.
OFFLINE_SAMPLE = "the embedded sample account needs none: lambda-workbook review --source sample"


class AwsError(RuntimeError):
    """An AWS call failed for a reason the user can act on; ``str()`` is one line saying what and what to do."""

    exit_code = 1

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class AwsConfigError(AwsError, ValueError):
    """The credentials, profile, region or permissions must change before the call can work (exit code 2).

    Also a ``ValueError``: callers that catch bad configuration as ``ValueError`` keep working."""

    exit_code = 2


class NoCredentials(AwsConfigError):
    """No credentials were found, or they are incomplete."""


class ExpiredCredentials(AwsConfigError):
    """The credentials were found but AWS refused them: expired, unknown or mistyped."""


class ProfileNotFound(AwsConfigError):
    """The named profile is in no AWS config or credentials file."""


class NoRegion(AwsConfigError):
    """No region was given and the profile names none, or the region given is not one."""


class AccessDenied(AwsConfigError):
    """The credentials work but lack a permission (AccessDenied, UnauthorizedOperation, ...)."""


class Unreachable(AwsError):
    """AWS (or the endpoint in AWS_ENDPOINT_URL) could not be reached or answered with an error."""


# Error codes by what the user has to do about them.
DENIED = {"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation",
          "UnauthorizedException", "Forbidden", "403", "AllAccessDisabled"}
EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
REJECTED = {"UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId", "AuthFailure",
            "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken", "InvalidToken"}
THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown",
             "ThrottledException", "429"}


def _who(profile: str | None) -> str:
    return f"profile {profile!r}" if profile else "the default credentials"


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    if "<html" in text.lower() or "<!doctype" in text.lower():
        return "an HTML page instead of an AWS response"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def translate(exc: BaseException, *, profile: str | None = None, region: str | None = None,
              service: str = "", policy: str = "", offline: str = "") -> BaseException:
    """The :class:`AwsError` for a botocore exception (anything else is returned unchanged).

    ``profile``/``region`` name where the call went; ``service`` the botocore service (for the IAM action of a
    denied call); ``policy`` the project's policy file granting what is needed; ``offline`` how to do without
    AWS (added to the no-credentials line)."""
    from botocore import exceptions as bx

    if isinstance(exc, AwsError):
        return exc
    where = f" in {region}" if region else ""
    if isinstance(exc, bx.ProfileNotFound):
        import boto3

        name = getattr(exc, "kwargs", {}).get("profile") or profile
        known = ", ".join(boto3.Session().available_profiles) or "none"
        return ProfileNotFound(f"AWS profile {name!r} is not configured (profiles: {known}): check the name, or "
                               f"create it with `aws configure --profile {name}`")
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        what = "no AWS credentials found" if isinstance(exc, bx.NoCredentialsError) else \
            f"incomplete AWS credentials ({_one_line(exc)})"
        hint = f"; {offline}" if offline else ""
        whose = f" for profile {profile!r}" if profile else ""
        return NoCredentials(f"{what}{whose}: set AWS_PROFILE or run `aws configure`{hint}")
    if isinstance(exc, bx.NoRegionError):
        return NoRegion(f"no AWS region set{f' for profile {profile!r}' if profile else ''}: pass --region (e.g. "
                        "--region us-east-1), set AWS_REGION, or add region to the profile")
    if isinstance(exc, bx.InvalidRegionError):
        return NoRegion(f"{_one_line(exc)}: use a region code like 'us-east-1'")
    if isinstance(exc, bx.TokenRetrievalError | bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError):
        return ExpiredCredentials(f"the AWS SSO session of {_who(profile)} has expired or is missing "
                                  f"({_one_line(exc)}): run `aws sso login`")
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        op = getattr(exc, "operation_name", "") or "the call"
        message = _one_line(err.get("Message", ""))
        detail = f"{code}: {message}" if message else code
        if code in EXPIRED:
            return ExpiredCredentials(f"the AWS credentials of {_who(profile)} have expired ({detail}): refresh "
                                      "them (`aws sso login`, or new session credentials) and run again")
        if code in REJECTED:
            return ExpiredCredentials(f"AWS rejected the credentials of {_who(profile)}{where} ({detail}): check "
                                      "the access key and secret, or that the region is enabled for the account")
        if code in DENIED:
            action = _iam_action(service, op) if service else op
            grant = f"; {policy} grants what is needed" if policy else ""
            return AccessDenied(f"AWS denied {op}{where} to {_who(profile)} ({detail}): the credentials need "
                                f"{action}{grant}")
        if code in THROTTLED:
            return Unreachable(f"AWS still throttled {op}{where} after retries ({detail}): wait and run again")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return Unreachable(f"AWS {op}{where} failed ({detail or f'HTTP {status}'})")
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError
                  | bx.ConnectionClosedError | bx.HTTPClientError):
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url", "")
        if endpoint:
            parts = urlsplit(endpoint)
            endpoint = f"{parts.scheme}://{parts.netloc}" if parts.netloc else endpoint
        return Unreachable(f"cannot reach AWS{where}{f' at {endpoint}' if endpoint else ''} "
                           f"({type(exc).__name__}): check the network, the region and AWS_ENDPOINT_URL")
    if isinstance(exc, bx.BotoCoreError):
        return Unreachable(f"AWS call failed{where}: {type(exc).__name__}: {_one_line(exc)}")
    return exc


def _iam_action(service: str, operation: str) -> str:
    return iam_action(service, operation)


@contextlib.contextmanager
def translating(**context) -> Iterator[None]:
    """Run a block of AWS calls; a botocore exception leaving it becomes an :class:`AwsError` (see
    :func:`translate` for the keywords)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, **context) from exc
