"""Policy briefings from Corridor results: ``corridor brief DIR`` -> one HTML page (and a PDF).

A results directory from ``corridor simulate`` becomes a self-contained page a deputy
governor can read in five minutes: the question, the rails against the G20 targets,
charts of the stress (each titled with its takeaway), one payment traced end to end, and
the assumptions and caveats. A sweep directory (with ``runs.parquet``) becomes an
ensemble briefing: fan charts across runs, settlement-time quantiles, and the
probability of a lasting depeg against shock size, with the number of runs behind every
figure.

    from corridor.briefing import render_briefing
    files = render_briefing(Path("results/dollar-contagion"), pdf=True)
    files.html, files.pdf
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corridor.briefing.pdf import ChromiumUnavailable, print_pdf, screenshot
from corridor.briefing.results import BriefingError, is_sweep, load_run, load_sweep

__all__ = [
    "BriefingError",
    "BriefingFiles",
    "ChromiumUnavailable",
    "render_briefing",
    "render_html",
    "screenshot",
]

BRIEFING_NAME = "briefing.html"


@dataclass(frozen=True)
class BriefingFiles:
    """What was written: the HTML page, and the PDF when one was asked for."""

    html: Path
    pdf: Path | None = None
    sweep: bool = False


def render_html(results_dir: Path) -> str:
    """The briefing page for ``results_dir`` as an HTML string (a sweep if it has runs.parquet)."""
    results_dir = Path(results_dir)
    if is_sweep(results_dir):
        from corridor.briefing.sweep_page import render_sweep_page

        return render_sweep_page(load_sweep(results_dir))
    from corridor.briefing.run_page import render_run_page

    return render_run_page(load_run(results_dir))


def render_briefing(results_dir: Path, out: Path | None = None, pdf: bool = False) -> BriefingFiles:
    """Write the briefing for ``results_dir``.

    ``out`` is the HTML path (default ``results_dir/briefing.html``); with ``pdf=True`` a PDF
    is printed next to it by headless Chromium. Raises :class:`BriefingError` with a plain
    message for bad input, and :class:`ChromiumUnavailable` (a ``BriefingError``) when a PDF
    was asked for and no Chromium is installed — the HTML is written first in that case.
    """
    results_dir = Path(results_dir)
    html_text = render_html(results_dir)
    html_path = Path(out) if out is not None else results_dir / BRIEFING_NAME
    if html_path.is_dir():
        html_path = html_path / BRIEFING_NAME
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(html_text, encoding="utf-8")
    pdf_path = print_pdf(html_path, html_path.with_suffix(".pdf")) if pdf else None
    return BriefingFiles(html=html_path, pdf=pdf_path, sweep=is_sweep(results_dir))
