"""``python -m corridor.briefing RESULTS_DIR [--out FILE] [--pdf]``: the same command as
``corridor brief``, without loading the rest of the CLI."""

from __future__ import annotations

import typer

from corridor.briefing.cli import brief_command


def main() -> None:
    typer.run(brief_command)


if __name__ == "__main__":
    main()
