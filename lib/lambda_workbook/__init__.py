"""lambda_workbook: models and data access behind the AWS Lambda optimization workbook.

Pure models (``billing``, ``prices``, ``memory``, ``triggers``, ``reads``, ``coldstarts``, ``review``) take data
and return values or DataFrames; ``sources`` is the one transport layer that reads account data; notebooks,
widgets and plots are thin skins over the same functions.
"""

__version__ = "0.1.0"
