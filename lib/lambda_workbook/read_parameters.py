"""The ``read_what_you_need`` notebook's checked parameters turned into the read model's inputs.

The notebook names its parameters after what a reader enters (``reads_per_month``, ``file_format``,
``db_reads_per_month``, ``needed_kb`` 0 for the whole item); the read model takes them under its own keyword
names. This is the one place that maps the one onto the other, so the notebook's cells only call the model.
"""

from __future__ import annotations

from typing import Any


def network(p: Any, measured: Any = None) -> Any:
    """The network the notebook assumes (``p.network_mb_s``, ``p.network_exponent``), fitted to ``measured``
    (:func:`lambda_workbook.reads.network_measurements`) instead when ``p.calibrate`` and it holds 3 or more
    timings."""
    from . import reads

    net = reads.Network(mb_per_s_1vcpu=p.network_mb_s, exponent=p.network_exponent)
    if p.calibrate and measured is not None and len(measured) >= 3:
        net = reads.calibrate_network(measured, base=net)
    return net


def entered(p: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The S3 and DynamoDB patterns as entered in the parameters, as keyword arguments of
    :func:`lambda_workbook.reads.s3_options` and :func:`lambda_workbook.reads.dynamodb_options`."""
    s3 = dict(object_mb=p.object_mb, fraction_needed=p.fraction_needed, requests_per_month=p.reads_per_month,
              format=p.file_format, layout_known=p.layout_known, select_customer=p.select_customer,
              transfer=p.transfer)
    dynamodb = dict(table_items=p.table_items, items_needed=p.items_needed, item_kb=p.item_kb,
                    needed_kb=p.needed_kb or None, consistency=p.consistency,
                    requests_per_month=p.db_reads_per_month, writes_per_month=p.writes_per_month,
                    transfer=p.transfer)
    return s3, dynamodb


def patterns(p: Any, snapshot: Any, calls: Any = None) -> tuple[dict[str, Any], dict[str, Any], str]:
    """:func:`lambda_workbook.reads.patterns` for the parameters: keyword arguments for the S3 and DynamoDB
    options, from ``p.function``'s recorded calls when a function is named, else as entered; and where they came
    from. ``calls``: :func:`lambda_workbook.reads.read_calls` of the snapshot when already computed."""
    from . import reads

    s3, dynamodb = entered(p)
    return reads.patterns(snapshot, p.function, memory_mb=p.memory_mb, arch=p.arch, calls=calls, s3=s3,
                          dynamodb=dynamodb)
