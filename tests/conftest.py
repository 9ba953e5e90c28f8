"""Shared fixtures. Tests that need ../shared (reference data outside the repository) skip without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LAMBDA_WORKBOOK_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "reference").is_dir():
        pytest.skip(f"reference material not found at {SHARED} (only CI and the team have ../shared)")
    return SHARED


@pytest.fixture(scope="session")
def facts_text(shared_dir) -> str:
    return (shared_dir / "reference" / "aws-facts.md").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def cebert(shared_dir):
    import pandas as pd

    path = shared_dir / "data" / "cebert-2025" / "cebert_lambda_benchmarks_tidy.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return pd.read_csv(path)


@pytest.fixture(scope="session")
def sample_snapshot():
    from lambda_workbook import sources

    return sources.sample()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (browser tests screenshot on failure)."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in a real Chromium")


# -- a fake AWS account: moto in server mode (tests/moto_account.py) --------------------------------------------
#: The sample functions seeded into moto for the AWS scan's tests: text and JSON logs, every trigger kind moto
#: implements, reserved concurrency, stream and async metrics, two accounts.
MOTO_SAMPLE_FUNCTIONS = ("orders-api", "catalog-rest-api", "pdf-render", "clickstream-consumer",
                         "notifications-sender", "partner-sync", "flash-sale-api", "media-thumbnail-io",
                         "auth-authorizer", "staging-orders-worker")
MOTO_SAMPLE_ACCOUNTS = {"prod": "111122223333", "staging": "444455556666"}


@pytest.fixture(scope="session")
def moto_server():
    """moto in server mode on 127.0.0.1 (a real HTTP endpoint, reachable from notebook kernels)."""
    import moto_account

    server = moto_account.MotoServer()
    moto_account.speed_up_moto_metrics()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def moto_sample(moto_server, sample_snapshot, tmp_path_factory):
    """The sample account's MOTO_SAMPLE_FUNCTIONS seeded into moto (last day of the sample, ending at the current
    hour), one more function in eu-west-1, and profiles ``prod`` / ``staging`` for the two accounts.
    ``.env`` is the environment that points boto3 (and notebook kernels) at moto with those profiles.

    Seeded afresh for each test module that asks: moto's backends are one in-process state, and the tuner's tests
    reset it (``tune_moto.reset``), so a seeding made earlier in the session may be gone."""
    from types import SimpleNamespace

    import pandas as pd
    import requests

    import moto_account

    requests.post(moto_server.endpoint + "/moto-api/reset", timeout=30)

    end = pd.Timestamp.now(tz="UTC").floor("h")
    seeded = moto_account.seed_sample(moto_server.endpoint, sample_snapshot, list(MOTO_SAMPLE_FUNCTIONS), days=1,
                                      end=end, canary="canary-7f3a9c")
    extra = moto_account.seed_synthetic(moto_server.endpoint, MOTO_SAMPLE_ACCOUNTS["prod"], 1, days=1, end=end,
                                        region="eu-west-1", prefix="eu-worker", points_per_day=24, lines=10)
    env = moto_account.write_profiles(moto_server.endpoint, tmp_path_factory.mktemp("aws"), MOTO_SAMPLE_ACCOUNTS,
                                      default="prod")
    return SimpleNamespace(endpoint=moto_server.endpoint, seeded=seeded, end=end, env=env, eu_functions=extra)


@pytest.fixture
def aws_env(moto_sample, monkeypatch):
    """Point boto3 at moto with the sample profiles for one test (kernels started by it inherit this)."""
    import moto_account

    moto_account.use_env(monkeypatch, moto_sample.env)
    return moto_sample


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole run: Playwright's sync API allows one running instance per thread, so
    every browser test shares this one (each opens its own context)."""
    from labdriver import CHROMIUM_ARGS, find_chromium, require_browser

    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
