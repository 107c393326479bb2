"""Generate the gRPC messages and stubs from the ``.proto`` files (the API's source of truth).

    python -m example_project.people.rpc.codegen          # rewrite the checked-in code
    python -m example_project.people.rpc.codegen --check  # exit 1 if regenerating changes it

The generated modules are committed so a checkout serves without a build step; the test
suite runs ``--check`` so a ``.proto`` edited without regenerating fails CI. The proto
include root is the repository root, so generated imports are absolute
(``example_project.people.rpc.people.v1.people_pb2``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PROTOS = sorted(HERE.glob("people/v*/people.proto"))
SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def generate(out_dir: Path) -> list[Path]:
    """Run protoc (from grpcio-tools) on every ``.proto`` into ``out_dir``; the files written."""
    from grpc_tools import protoc  # the optional "grpc" extra; imported only here

    relative = [str(p.relative_to(ROOT)) for p in PROTOS]
    args = ["protoc", f"-I{ROOT}", f"--python_out={out_dir}", f"--pyi_out={out_dir}"]
    if protoc.main([*args, f"--grpc_python_out={out_dir}", *relative]) != 0:
        raise RuntimeError(f"protoc failed on {', '.join(relative)}")
    return [out_dir / name for name in outputs()]


def outputs() -> list[Path]:
    """Pure: the generated files' paths relative to the repository root."""
    stems = [p.relative_to(ROOT).with_suffix("") for p in PROTOS]
    return [stem.with_name(stem.name + suffix) for stem in stems for suffix in SUFFIXES]


def differences() -> list[str]:
    """Generated files whose checked-in copy differs from a fresh generation (pure check)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.relative_to(tmp): p.read_bytes() for p in generate(Path(tmp))}
    found = []
    for relative, content in fresh.items():
        checked_in = ROOT / relative
        if not checked_in.exists() or checked_in.read_bytes() != content:
            found.append(str(relative))
    return found


def write() -> list[Path]:
    """Regenerate into the source tree."""
    return generate(ROOT)


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = differences()
        for name in stale:
            print(f"{name} differs from its .proto: run python -m {__spec__.name}")
        return 1 if stale else 0
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
