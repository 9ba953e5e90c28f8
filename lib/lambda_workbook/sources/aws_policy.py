"""Least privilege: which IAM action authorises each botocore operation, and which actions only read."""

from __future__ import annotations

# -- least privilege ---------------------------------------------------------------------------------------
#: botocore (service, operation) -> IAM action, where the IAM name is not simply ``service:Operation``
_IAM_NAMES = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
}
#: Verbs of the operations a read-only scan may perform. ``StartQuery``/``GetQueryResults``/``StopQuery``
#: run and cancel a Logs Insights query over log data that already exists: they create no resource that
#: outlives the query, change no configuration and no data, and cost only the bytes scanned, which the scan
#: prices and bounds (``insights_budget_gb``).
READ_ONLY_VERBS = ("List", "Get", "Describe", "FilterLogEvents", "StartQuery", "StopQuery")


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorises a botocore operation (API Gateway's are ``apigateway:GET``)."""
    if service in ("apigateway", "apigatewayv2"):
        return "apigateway:GET" if operation.startswith("Get") else f"apigateway:{operation}"
    return _IAM_NAMES.get((service, operation), f"{service}:{operation}")


def is_read_only(action: str) -> bool:
    """Whether an IAM action only reads (by its verb; ``apigateway:GET`` is the HTTP verb GET)."""
    service, _, name = action.partition(":")
    if service == "apigateway":
        return name == "GET"
    return name.startswith(READ_ONLY_VERBS)


def policy_path():
    """``iam/workbook-readonly-policy.json``: the least-privilege policy the scan needs."""
    from .. import datafiles

    return datafiles.project_root() / "iam" / "workbook-readonly-policy.json"
