"""`corridor brief DIR`: a results (or sweep) directory -> one HTML briefing, and a PDF.

Mounted by ``corridor/cli.py`` as ``app.command("brief")(brief_command)``. Bad input and a
missing Chromium are reported in one plain sentence on stderr, never as a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corridor.briefing import BriefingError, ChromiumUnavailable, render_briefing

EXIT_BAD_INPUT = 2
EXIT_NO_CHROMIUM = 3  # the HTML was written; only the PDF is missing


def brief_command(
    results_dir: Annotated[
        Path, typer.Argument(help="A results directory from `corridor simulate`, or a sweep.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="HTML path (default: DIR/briefing.html)")
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also print a PDF beside it (headless Chromium).")
    ] = False,
) -> None:
    """Write the one-page policy briefing: the question, the rails against the G20
    targets, the stress, supervision, one traced payment, assumptions and caveats."""
    try:
        files = render_briefing(results_dir, out=out, pdf=pdf)
    except ChromiumUnavailable as exc:
        typer.echo(f"corridor brief: {exc}", err=True)
        raise typer.Exit(EXIT_NO_CHROMIUM) from None
    except BriefingError as exc:
        typer.echo(f"corridor brief: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    typer.echo(f"{'ensemble briefing' if files.sweep else 'briefing'}: {files.html}")
    if files.pdf is not None:
        typer.echo(f"pdf: {files.pdf}")
