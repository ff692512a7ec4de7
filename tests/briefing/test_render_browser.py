"""The briefing in a real browser (Debian's headless Chromium, driven by Playwright): no
console errors, no network requests, every chart drawn at a visible size; and the PDF.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from corridor.briefing import ChromiumUnavailable, render_briefing
from corridor.briefing.cli import EXIT_BAD_INPUT, EXIT_NO_CHROMIUM, brief_command
from corridor.briefing.pdf import CHROMIUM_FLAGS, DEFAULT_CHROMIUM
from tests.briefing.results_fixture import FixtureRun

needs_chromium = pytest.mark.skipif(
    not Path(DEFAULT_CHROMIUM).is_file(),
    reason=f"{DEFAULT_CHROMIUM} is absent: install Debian's chromium (`make browser`)",
)
# Playwright takes the flags without --headless (it sets headless mode itself).
LAUNCH_ARGS = [flag for flag in CHROMIUM_FLAGS if flag != "--headless"]


def check_in_browser(html: Path, width: int) -> dict:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=DEFAULT_CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: requests.append(r.url) if not r.url.startswith("file:") else None,
            )
            page.goto(html.resolve().as_uri(), wait_until="load")
            charts = page.locator("svg.chart-svg")
            boxes = []
            for i in range(charts.count()):
                chart = charts.nth(i)
                box = chart.bounding_box()
                boxes.append(
                    (chart.is_visible(), box["width"] if box else 0, box["height"] if box else 0)
                )
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
        finally:
            browser.close()
    return {"errors": errors, "requests": requests, "boxes": boxes, "overflow": overflow}


@needs_chromium
@pytest.mark.parametrize("width", [1280, 820])
def test_single_run_briefing_renders_cleanly(
    fixture_run: FixtureRun, tmp_path: Path, width: int
) -> None:
    files = render_briefing(fixture_run.directory, out=tmp_path / "briefing.html")
    seen = check_in_browser(files.html, width)
    assert seen["errors"] == []
    assert seen["requests"] == []
    assert len(seen["boxes"]) >= 9
    for visible, w, h in seen["boxes"]:
        assert visible and w > 100 and h > 50, seen["boxes"]
    assert seen["overflow"] <= 0  # nothing wider than the window


@needs_chromium
def test_sweep_briefing_renders_cleanly(sweep_dir: Path, tmp_path: Path) -> None:
    files = render_briefing(sweep_dir, out=tmp_path / "ensemble.html")
    seen = check_in_browser(files.html, 1280)
    assert seen["errors"] == [] and seen["requests"] == []
    assert len(seen["boxes"]) >= 5
    assert all(visible and w > 100 and h > 50 for visible, w, h in seen["boxes"])


@needs_chromium
def test_pdf_is_printed_next_to_the_html(fixture_run: FixtureRun, tmp_path: Path) -> None:
    files = render_briefing(fixture_run.directory, out=tmp_path / "briefing.html", pdf=True)
    assert files.pdf == tmp_path / "briefing.pdf"
    data = files.pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000


def test_missing_chromium_is_a_clear_message_and_the_html_is_kept(
    fixture_run: FixtureRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORRIDOR_CHROMIUM", str(tmp_path / "no-such-chromium"))
    out = tmp_path / "briefing.html"
    with pytest.raises(ChromiumUnavailable, match="make browser"):
        render_briefing(fixture_run.directory, out=out, pdf=True)
    assert out.is_file()


def test_command_line_reports_plainly(
    fixture_run: FixtureRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "corridor.briefing",
            str(fixture_run.directory),
            "--out",
            str(tmp_path / "b.html"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and "briefing: " in ok.stdout
    assert (tmp_path / "b.html").is_file()
    bad = subprocess.run(
        [sys.executable, "-m", "corridor.briefing", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == EXIT_BAD_INPUT
    assert "results directory not found" in bad.stderr and "Traceback" not in bad.stderr
    monkeypatch.setenv("CORRIDOR_CHROMIUM", str(tmp_path / "no-such-chromium"))
    app = typer.Typer()
    app.command()(brief_command)
    result = CliRunner().invoke(
        app, [str(fixture_run.directory), "--out", str(tmp_path / "c.html"), "--pdf"]
    )
    assert result.exit_code == EXIT_NO_CHROMIUM
    assert "Chromium was not found" in result.output
    assert (tmp_path / "c.html").is_file()
