"""The process a services-mode run lives in: `corridor simulate`, made safe to abandon.

A sweep task starts ``python -m corridor.sweep.child simulate ...`` instead of the bare CLI
for one reason: a Dask worker can die mid-run (killed, evicted, out of memory), and then its
run is retried elsewhere. The run's own processes — the simulator and the six services it
starts in their own sessions — must not live on, still writing into the run's databases
while the retry recreates them. So this wrapper

* turns SIGTERM into the same interrupt as Ctrl-C, so the simulator's `finally` stops its
  services;
* watches its parent (the worker) and sends itself SIGTERM when the parent is gone;
* on the way out, terminates any descendant still running (a service started a moment
  before the interrupt, outside the simulator's `try`).

Everything else is exactly `corridor simulate` with the same arguments.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from types import FrameType

PARENT_ENV = "CORRIDOR_SWEEP_PARENT"
WATCH_S = 0.5


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(WATCH_S)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def stop_descendants(grace_s: float = 5.0) -> None:
    """Terminate (then kill) every process started below this one."""
    import psutil

    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return
    for child in children:
        try:
            child.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(children, timeout=grace_s)
    for child in alive:
        try:
            child.kill()
        except psutil.Error:
            pass


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _interrupt)
    parent = int(os.environ.get(PARENT_ENV, "0") or 0)
    if parent:
        if os.getppid() != parent:
            return 130  # the worker died before we started
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    from corridor.cli import main as corridor_main

    sys.argv = ["corridor", *args]
    try:
        corridor_main()
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:
        return 130
    finally:
        stop_descendants()
    return 0


if __name__ == "__main__":
    sys.exit(main())
