"""Every notebook in a real JupyterLab + Chromium: all cells run, widgets render, a control moves the numbers.

Needs Debian's ``chromium`` and the ``playwright`` Python package (test extras). Skipped when either is missing,
except under ``CI=true``, where a missing browser fails the run.
"""

from __future__ import annotations

import shutil

import pytest

from conftest import ROOT
from labdriver import (
    ACTIVE,
    LabServer,
    kernel_ready,
    problems,
    require_browser,
    run_all_cells,
    wait_idle,
)

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
ARTIFACTS = ROOT / "tests" / "artifacts"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_browser()
    root = tmp_path_factory.mktemp("lab-root")
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, root / name)
    server = LabServer(root, tmp_path_factory.mktemp("lab-work"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(lab, chromium):
    return chromium


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


_SI = {"k": 1e3, "M": 1e6, "G": 1e9, "m": 1e-3, "µ": 1e-6}


def _number(text: str) -> float | None:
    text = text.strip().replace(",", "")
    scale = _SI.get(text[-1:], 1.0) if text else 1.0
    try:
        return float(text[:-1] if scale != 1.0 else text) * scale
    except ValueError:
        return None


def move_a_control(page) -> str:
    """Move the explorer's primary control (class ``wb-primary``) as a reviewer would: type a new value into a
    slider's readout, pick another option of a dropdown, or press another toggle button. Returns what was done
    ("" when the notebook has no control)."""
    target = page.locator(f"{ACTIVE} .wb-primary")
    if not target.count():
        target = page.locator(f"{ACTIVE} .widget-slider")
    if not target.count():
        return ""
    el = target.last
    el.scroll_into_view_if_needed()
    readout = el.locator(".widget-readout")
    if readout.count():
        current = _number(readout.inner_text()) or 0.0
        new = current * 3 if current else 1.0
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(f"{new:g}")
        page.keyboard.press("Enter")
        return f"typed {new:g} into a slider (was {current:g})"
    select = el.locator("select")
    if select.count():
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.options[s.selectedIndex].text")
        other = next(o for o in options if o != current)
        select.select_option(label=other)
        return f"picked {other!r} (was {current!r})"
    buttons = el.locator("button:not(.mod-active)")
    if buttons.count():
        buttons.first.click()
        return "pressed another toggle button"
    raise AssertionError("the primary control is neither a slider, a dropdown nor toggle buttons")


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
    moved = move_a_control(page)
    if moved:
        wait_idle(page, 60)
        page.wait_for_timeout(1500)
        assert figure_state(page) != before_fig, f"{moved}: no figure changed"
        assert explorer_text(page) != before_text, f"{moved}: the numbers did not change"
        found = problems(page)
        assert not found["errors"] and not found["stderr"], found
    else:
        assert name == "account_review.ipynb", f"{name} has no interactive control"
