"""``python -m corridor.briefing RESULTS_DIR [--out FILE] [--pdf]``: the briefing without the
full CLI (``corridor brief`` calls the same :func:`main`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from corridor.briefing import BriefingError, ChromiumUnavailable, render_briefing


def main(argv: list[str] | None = None) -> int:
    """Render the briefing; print where it went. Exit 0 on success, 2 on bad input, 3 when
    the HTML was written but the PDF could not be (no Chromium)."""
    parser = argparse.ArgumentParser(
        prog="corridor brief",
        description="Turn a results (or sweep) directory into a one-page HTML briefing.",
    )
    parser.add_argument("results_dir", type=Path, help="directory written by corridor simulate")
    parser.add_argument(
        "--out", type=Path, default=None, help="HTML path (default DIR/briefing.html)"
    )
    parser.add_argument(
        "--pdf", action="store_true", help="also print a PDF with headless Chromium"
    )
    args = parser.parse_args(argv)
    try:
        files = render_briefing(args.results_dir, out=args.out, pdf=args.pdf)
    except ChromiumUnavailable as exc:
        print(f"corridor brief: {exc}", file=sys.stderr)
        return 3
    except BriefingError as exc:
        print(f"corridor brief: {exc}", file=sys.stderr)
        return 2
    kind = "ensemble briefing" if files.sweep else "briefing"
    print(f"{kind}: {files.html}")
    if files.pdf is not None:
        print(f"pdf: {files.pdf}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
