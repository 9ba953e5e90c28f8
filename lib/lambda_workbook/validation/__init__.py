"""Checks of the models against real measurements: data sets, a measured account and its scoring."""
