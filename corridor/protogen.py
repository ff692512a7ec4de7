"""Generate the Python stubs for every contract in proto/corridor/v1 into corridor/v1.

One command (`make proto` or `python -m corridor.protogen`), one place. The generated files are
committed and never edited by hand; `python -m corridor.protogen --check` (and a test) fails when
they are stale.
"""

from __future__ import annotations

import filecmp
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "corridor" / "v1"
HEADER_INIT = (
    '"""Generated gRPC/protobuf stubs for corridor.v1. Do not edit: run `make proto`."""\n'
)


def proto_files() -> list[Path]:
    return sorted((PROTO_DIR / "corridor" / "v1").glob("*.proto"))


def generate(out_root: Path) -> Path:
    """Run protoc into out_root; returns the directory holding the corridor/v1 stubs."""
    import grpc_tools
    from grpc_tools import protoc

    include = str(Path(grpc_tools.__file__).parent / "_proto")
    files = [str(p.relative_to(PROTO_DIR)) for p in proto_files()]
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed (see the message above)")
    out = out_root / "corridor" / "v1"
    (out / "__init__.py").write_text(HEADER_INIT)
    return out


def stale_files() -> list[str]:
    """Names of generated files that differ from what the protos would produce now."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        names = {p.name for p in fresh.iterdir() if p.is_file()}
        names |= {p.name for p in OUT_DIR.glob("*_pb2*.py*")} if OUT_DIR.exists() else set()
        stale = []
        for name in sorted(names):
            a, b = fresh / name, OUT_DIR / name
            if not a.exists() or not b.exists() or not filecmp.cmp(a, b, shallow=False):
                stale.append(name)
        return stale


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        stale = stale_files()
        if stale:
            print("generated stubs are stale; run `make proto`: " + ", ".join(stale))
            return 1
        print("generated stubs are up to date")
        return 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for old in OUT_DIR.glob("*_pb2*.py*"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        for f in fresh.iterdir():
            if f.is_file():
                (OUT_DIR / f.name).write_bytes(f.read_bytes())
    print(f"generated {len(list(OUT_DIR.glob('*_pb2*.py')))} modules in {OUT_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
