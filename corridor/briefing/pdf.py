"""Printing the briefing to PDF (and screenshots) with headless Chromium.

Debian's ``chromium`` package is the browser (``make browser`` installs it). It runs with
networking features off and a throw-away profile, so printing never phones home and never
touches the user's own browser profile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from corridor.briefing.results import BriefingError

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ENV = "CORRIDOR_CHROMIUM"
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
TIMEOUT_S = 120


class ChromiumUnavailable(BriefingError):
    """No Chromium to print with; the HTML briefing is still written."""


def find_chromium() -> Path | None:
    """``$CORRIDOR_CHROMIUM`` if set (even to a missing path: that is how to turn it off),
    else ``/usr/bin/chromium``, else a ``chromium`` on PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured is not None:
        path = Path(configured)
        return path if path.is_file() and os.access(path, os.X_OK) else None
    if Path(DEFAULT_CHROMIUM).is_file():
        return Path(DEFAULT_CHROMIUM)
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(found) if found else None


def _run_chromium(extra: list[str], html: Path, out: Path, what: str) -> None:
    chromium = find_chromium()
    if chromium is None:
        raise ChromiumUnavailable(
            f"cannot write the {what}: Chromium was not found at {DEFAULT_CHROMIUM} (or "
            f"${CHROMIUM_ENV}). Install Debian's chromium (`make browser`) and run again; the "
            f"HTML briefing {html} was written and opens in any browser."
        )
    with tempfile.TemporaryDirectory(prefix="corridor-chromium-") as profile:
        args = [
            str(chromium),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            *extra,
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(
                args, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise BriefingError(f"Chromium took over {TIMEOUT_S} s to write the {what}") from None
        except OSError as exc:
            raise ChromiumUnavailable(f"Chromium at {chromium} could not start: {exc}") from None
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-3:])
        raise BriefingError(f"Chromium failed to write the {what} (exit {done.returncode}): {tail}")


def print_pdf(html: Path, pdf: Path) -> Path:
    """Print ``html`` to ``pdf`` (A4, as laid out by the page's print stylesheet)."""
    pdf.unlink(missing_ok=True)
    _run_chromium(
        [f"--print-to-pdf={pdf.resolve()}", "--no-pdf-header-footer", "--print-to-pdf-no-header"],
        html,
        pdf,
        "PDF",
    )
    return pdf


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 4000) -> Path:
    """A full-width PNG of the page, for looking at the design."""
    png.unlink(missing_ok=True)
    _run_chromium(
        [f"--screenshot={png.resolve()}", f"--window-size={width},{height}", "--hide-scrollbars"],
        html,
        png,
        "screenshot",
    )
    return png
