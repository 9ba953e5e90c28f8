"""A temporary copy of a function to tune, so that the original's configuration and traffic are never touched.

:func:`create_copy` reads the original with ``GetFunction`` and creates ``lwb-tune-<name>-<run>`` with the same
code — a zip downloaded over HTTPS through the presigned code location (checked against ``CodeSha256``), or the
image by its resolved digest — and the same role, handler, runtime, layers, timeout, memory, ephemeral storage,
architecture, VPC, file systems, tracing, KMS key, log format and environment. The environment's values exist
only inside that call: they go from ``GetFunction``'s answer straight into ``CreateFunction`` and are dropped
(and scrubbed from the answer) before it returns; nothing here stores, logs or returns them.

Not copied: triggers, aliases, versions, concurrency settings, function URLs, resource policy, destinations and
SnapStart — the copy gets no traffic but the tuner's, and its cold starts are full INITs. Its logs go to its
own log group ``/aws/lambda/<copy>``, which the run deletes with it.
"""

from __future__ import annotations

import base64
import hashlib
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from .tune_journal import TuneError

PREFIX = "lwb-tune"
NAME_MAX = 64          # Lambda function names: 1-64 characters
RUN_ID_CHARS = 6       # secrets.token_hex(3)
#: Lambda's limit on a deployment package uploaded directly (zipped), "50 MB" on the Lambda quotas page,
#: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
DIRECT_UPLOAD_MB = 50
#: Largest zip downloaded: the unzipped limit (250 MB, same page) bounds the zip too.
MAX_DOWNLOAD_BYTES = 250 * 1024 * 1024


class CopyError(TuneError):
    """The copy could not be made; the message names what to do instead."""


def base_name(function_name: str) -> str:
    """The function's name from a name or an ARN."""
    return function_name.split(":function:")[-1].split(":")[0]


def name_stem(function_name: str, prefix: str = PREFIX) -> str:
    """``lwb-tune-<name>`` cut so that ``<stem>-<run id>`` fits Lambda's 64 characters."""
    room = NAME_MAX - len(prefix) - RUN_ID_CHARS - 2
    return f"{prefix}-{base_name(function_name)[:room]}"


def copy_name(function_name: str, run_id: str, prefix: str = PREFIX) -> str:
    if len(run_id) != RUN_ID_CHARS:
        raise ValueError(f"run id must have {RUN_ID_CHARS} characters, got {run_id!r}")
    return f"{name_stem(function_name, prefix)}-{run_id}"


def log_group(name: str) -> str:
    return f"/aws/lambda/{name}"


def fetch_code(url: str, *, timeout_s: float = 120.0, max_bytes: int = MAX_DOWNLOAD_BYTES) -> bytes:
    """Download a function's zip through ``GetFunction``'s presigned location (HTTPS only).

    The URL is a short-lived credential: errors name its host, never the URL."""
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme != "https":
        raise CopyError(f"refusing to download the function's code over {parts.scheme or 'no scheme'!r}: "
                        "only an HTTPS code location is used")
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 - https checked above
            data = resp.read(max_bytes + 1)
    except OSError as exc:
        raise CopyError(f"downloading the function's code from {parts.hostname} failed: "
                        f"{getattr(exc, 'reason', None) or exc.__class__.__name__}") from None
    if len(data) > max_bytes:
        raise CopyError(f"the function's code from {parts.hostname} is larger than {max_bytes // 2**20} MB")
    return data


def _sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _copy_args(cfg: dict[str, Any], code: dict[str, Any], name: str, description: str,
               fetch: Callable[[str], bytes]) -> dict[str, Any]:
    kw: dict[str, Any] = {
        "FunctionName": name, "Role": cfg["Role"], "Description": description, "Publish": False,
        "Timeout": cfg.get("Timeout", 3), "MemorySize": cfg.get("MemorySize", 128),
        "Architectures": cfg.get("Architectures") or ["x86_64"], "PackageType": cfg.get("PackageType") or "Zip",
    }
    if kw["PackageType"] == "Image":
        uri = code.get("ResolvedImageUri") or code.get("ImageUri")
        if not uri:
            raise CopyError("GetFunction gave no image URI for this container image function")
        kw["Code"] = {"ImageUri": uri}
        image_config = {k: v for k, v in ((cfg.get("ImageConfigResponse") or {}).get("ImageConfig") or {}).items() if v}
        if image_config:
            kw["ImageConfig"] = image_config
    else:
        if not code.get("Location"):
            raise CopyError("GetFunction gave no code location for this zip function")
        data = fetch(code["Location"])
        if cfg.get("CodeSha256") and _sha256_b64(data) != cfg["CodeSha256"]:
            raise CopyError("the downloaded code does not match the function's CodeSha256 (changed meanwhile?)")
        kw["Code"] = {"ZipFile": data}
        kw["Runtime"], kw["Handler"] = cfg.get("Runtime"), cfg.get("Handler")
        if cfg.get("Layers"):
            kw["Layers"] = [layer["Arn"] for layer in cfg["Layers"]]
    if (cfg.get("EphemeralStorage") or {}).get("Size"):
        kw["EphemeralStorage"] = {"Size": cfg["EphemeralStorage"]["Size"]}
    if (cfg.get("TracingConfig") or {}).get("Mode"):
        kw["TracingConfig"] = {"Mode": cfg["TracingConfig"]["Mode"]}
    vpc = cfg.get("VpcConfig") or {}
    if vpc.get("SubnetIds"):
        kw["VpcConfig"] = {k: vpc[k] for k in ("SubnetIds", "SecurityGroupIds", "Ipv6AllowedForDualStack")
                           if k in vpc}
    if cfg.get("FileSystemConfigs"):
        kw["FileSystemConfigs"] = [{"Arn": f["Arn"], "LocalMountPath": f["LocalMountPath"]}
                                   for f in cfg["FileSystemConfigs"]]
    if cfg.get("KMSKeyArn"):
        kw["KMSKeyArn"] = cfg["KMSKeyArn"]
    logging = {k: v for k, v in (cfg.get("LoggingConfig") or {}).items() if k != "LogGroup"}
    if logging:
        kw["LoggingConfig"] = logging  # not its log group: the copy logs to its own, deleted with it
    env = cfg.get("Environment") or {}
    if env.get("Error"):
        raise CopyError(f"cannot read the function's environment to copy it ({env['Error'].get('ErrorCode')}): "
                        "allow kms:Decrypt on its key, or tune --in-place")
    if env.get("Variables"):
        kw["Environment"] = {"Variables": env["Variables"]}
    return kw


def create_copy(client, function_name: str, name: str, *, description: str,
                fetch: Callable[[str], bytes] | None = None) -> dict[str, Any]:
    """Create the copy ``name`` of ``function_name``; returns ``{"code_bytes", "package", "env_names"}``.

    A ``ResourceConflictException`` whose function carries this ``description`` is the copy itself (created
    by a retried request whose first answer was lost) and counts as created."""
    got = client.get_function(FunctionName=function_name)
    cfg = got.get("Configuration") or {}
    kw: dict[str, Any] = {}
    try:
        env_names = sorted((cfg.get("Environment") or {}).get("Variables") or {})
        kw = _copy_args(cfg, got.get("Code") or {}, name, description, fetch or fetch_code)
        size = len((kw.get("Code") or {}).get("ZipFile") or b"")
        if size > DIRECT_UPLOAD_MB * 2**20:
            raise CopyError(f"the function's zip is {size / 2**20:.0f} MB; CreateFunction takes at most "
                            f"{DIRECT_UPLOAD_MB} MB directly: tune it --in-place")
        try:
            client.create_function(**kw)
        except ParamValidationError:
            # its text quotes the rejected values, which may be environment values: never pass it on
            raise CopyError("botocore rejected the copy's parameters before sending them") from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ResourceConflictException" and _is_ours(client, name, description):
                pass
            elif code == "RequestEntityTooLargeException":
                raise CopyError(f"CreateFunction refused the function's {size / 2**20:.0f} MB zip as too large: "
                                "tune it --in-place") from None
            else:
                raise
        return {"code_bytes": size, "package": kw.get("PackageType"), "env_names": env_names}
    finally:
        kw.clear()
        cfg.pop("Environment", None)
        got.clear()


def _is_ours(client, name: str, description: str) -> bool:
    try:
        return client.get_function_configuration(FunctionName=name).get("Description") == description
    except ClientError:
        return False


def wait_ready(client, name: str, *, timeout_s: float = 120.0, poll_s: float = 1.0) -> dict[str, Any]:
    """Wait until the function is no longer ``Pending`` and its last update is ``Successful``; returns its
    configuration (without environment values)."""
    deadline = time.monotonic() + timeout_s
    while True:
        cfg = client.get_function_configuration(FunctionName=name)
        cfg.pop("Environment", None)
        state = cfg.get("State") or "Active"
        update = cfg.get("LastUpdateStatus") or "Successful"
        if state in ("Active", "Inactive") and update == "Successful":  # an idle function is Inactive
            return cfg
        if state == "Failed" or update == "Failed":
            raise TuneError(f"{name}: {cfg.get('StateReason') or cfg.get('LastUpdateStatusReason') or 'failed'}")
        if time.monotonic() > deadline:
            raise TuneError(f"{name} still {state}/{update} after {timeout_s:g} s")
        time.sleep(poll_s)
