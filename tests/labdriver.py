"""Drive a real JupyterLab in a real Chromium (Debian's), for the browser tests.

The recipe (Playwright's ``BrowserType.launch(executable_path=...)``, https://playwright.dev/python/docs/api/class-browsertype;
JupyterLab's ``--ServerApp.token``, https://jupyter-server.readthedocs.io/): start ``jupyter lab`` on 127.0.0.1 with a token and a
throw-away config dir that disables the news/announcements toast, copy the notebooks into a temp root (the
browser autosaves), launch Chromium through Playwright with ``executable_path``, headless and unsandboxed, and
run every cell through the Run menu.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def find_chromium() -> str | None:
    env = os.environ.get("CHROMIUM_PATH")
    if env and Path(env).exists():
        return env
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_browser() -> str:
    """Debian's Chromium path; skips the test when Chromium or playwright is missing (fails it under ``CI=true``)."""
    import pytest

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A JupyterLab server process on a temp root; ``url(path)`` gives a tokenised URL."""

    def __init__(self, root: Path, workdir: Path):
        self.root = root
        self.port = free_port()
        self.token = "wb-test-token"
        cfg = workdir / "config"
        (cfg / "labconfig").mkdir(parents=True, exist_ok=True)
        (cfg / "labconfig" / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
        self.env = {**os.environ, "JUPYTER_CONFIG_DIR": str(cfg), "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
                    "PYTHONUNBUFFERED": "1"}
        self.log = open(workdir / "jupyter.log", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}", "--allow-root",
             "--LabApp.news_url=", "--ServerApp.disable_check_xsrf=True"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early, see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"jupyter lab did not answer within {timeout} s")

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path}{sep}token={self.token}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def accept_dialogs(page) -> bool:
    """Accept a JupyterLab dialog (e.g. "Select Kernel") if one is open."""
    accept = page.locator(".jp-Dialog .jp-mod-accept")
    if accept.count() and accept.first.is_visible():
        accept.first.click()
        return True
    return False


def kernel_ready(page, timeout_s: float = 90.0) -> None:
    """Wait until the notebook's kernel is started and idle, accepting a kernel-selection dialog on the way."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        accept_dialogs(page)
        ready = page.evaluate("""() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const ind = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
            const dialog = document.querySelector('.jp-Dialog');
            const name = panel && panel.querySelector('.jp-Toolbar-kernelName');
            return !!ind && ind.getAttribute('data-status') === 'idle' && !dialog
                && !!name && !/No Kernel/i.test(name.textContent);
        }""")
        if ready:
            time.sleep(0.5)
            if not page.locator(".jp-Dialog").count():
                return
        time.sleep(0.5)
    raise TimeoutError("the notebook's kernel did not become idle")


def run_all_cells(page, timeout_s: float = 300.0) -> None:
    """Open the Run menu and run every cell, then wait until no cell is queued or running."""
    page.locator("li.lm-MenuBar-item", has_text="Run").first.click()
    page.locator("li.lm-Menu-item", has_text="Run All Cells").first.click()
    wait_idle(page, timeout_s)


def wait_idle(page, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    time.sleep(1.0)
    while time.monotonic() < deadline:
        accept_dialogs(page)
        busy = page.evaluate("""() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            if (!panel) return true;
            const prompts = [...panel.querySelectorAll('.jp-InputPrompt')];
            const running = prompts.some(p => p.textContent.includes('*'));
            const ind = panel.querySelector('.jp-Notebook-ExecutionIndicator');
            const status = ind ? ind.getAttribute('data-status') : 'idle';
            return running || (status && status !== 'idle');
        }""")
        if not busy:
            time.sleep(1.0)  # let widget views and figures finish rendering
            return
        time.sleep(0.5)
    raise TimeoutError("cells were still running after the timeout")


def problems(page) -> dict[str, list[str]]:
    """Error outputs, stderr outputs and widgets stuck on 'Loading widget' in the open notebook."""
    return page.evaluate("""() => {
        const txt = el => (el.innerText || '').slice(0, 500);
        const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)') || document;
        const q = s => [...panel.querySelectorAll(s)];
        return {
            errors: q('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]').map(txt)
                .concat(q('.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]').map(txt)),
            stderr: q('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]').map(txt),
            loading: q('.jp-OutputArea-output').map(txt).filter(t => t.includes('Loading widget')),
        };
    }""")
