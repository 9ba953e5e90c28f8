"""Every notebook in a real JupyterLab + Chromium: all cells run, widgets render, a control moves the numbers.

Needs Debian's ``chromium`` and the ``playwright`` Python package (test extras). Skipped when either is missing,
except under ``CI=true``, where a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import ROOT
from labdriver import (
    ACTIVE,
    CHROMIUM_ARGS,
    LabServer,
    find_chromium,
    kernel_ready,
    problems,
    run_all_cells,
    wait_idle,
)

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
ARTIFACTS = ROOT / "tests" / "artifacts"
pytestmark = pytest.mark.browser


def _require_browser():
    chromium = find_chromium()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        chromium = None
    if chromium is None:
        message = "Debian chromium and the playwright package are needed for the browser tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: a missing browser fails the run)")
        pytest.skip(message)
    return chromium


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_browser()
    root = tmp_path_factory.mktemp("lab-root")
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, root / name)
    server = LabServer(root, tmp_path_factory.mktemp("lab-work"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def open_notebook(page, lab, name: str) -> None:
    page.goto(lab.url(f"lab/tree/{name}?reset"))  # ?reset: a fresh workspace, no tabs from earlier tests
    page.wait_for_selector(f"{ACTIVE} .jp-Notebook", timeout=60_000)
    kernel_ready(page)


def figure_state(page) -> list[str]:
    """A fingerprint of every rendered plotly figure's data."""
    return page.evaluate("""() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .js-plotly-plot')]
        .map(el => JSON.stringify((el.data || []).map(t => [t.x, t.y, t.name])))""")


def explorer_text(page) -> str:
    return page.evaluate("""() => [...document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .widget-html, .jp-NotebookPanel:not(.lm-mod-hidden) .widget-html-content')]
        .map(el => el.innerText).join('\\n')""")


def move_a_control(page) -> bool:
    """Type a new value into the last slider's readout (or the last text box). False when there is none."""
    readouts = page.locator(f"{ACTIVE} .widget-slider .widget-readout")
    if readouts.count():
        box = readouts.last
        current = box.inner_text().strip().replace(",", "")
        try:
            new = str(float(current) * 2 if float(current) else 1)
        except ValueError:
            new = "2"
        box.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(new)
        page.keyboard.press("Enter")
        return True
    texts = page.locator(f"{ACTIVE} .widget-text input, {ACTIVE} .widget-inline-hbox input[type=number]")
    if texts.count():
        box = texts.last
        value = box.input_value()
        box.fill(str(float(value) * 2 + 1) if value.replace(".", "", 1).isdigit() else value + "x")
        box.press("Enter")
        return True
    return False


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab(page, lab, name):
    open_notebook(page, lab, name)
    run_all_cells(page)
    found = problems(page)
    assert not found["errors"], found["errors"]
    assert not found["stderr"], found["stderr"]
    assert not found["loading"], found["loading"]
    page.wait_for_selector(f"{ACTIVE} .js-plotly-plot", timeout=30_000)
    before_fig, before_text = figure_state(page), explorer_text(page)
    if move_a_control(page):
        wait_idle(page, 60)
        page.wait_for_timeout(1500)
        assert figure_state(page) != before_fig, "moving a control did not change any figure"
        assert explorer_text(page) != before_text, "moving a control did not change the numbers"
        found = problems(page)
        assert not found["errors"] and not found["stderr"], found
    else:
        assert name == "account_review.ipynb", f"{name} has no interactive control"
