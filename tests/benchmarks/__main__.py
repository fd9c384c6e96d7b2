"""`python -m tests.benchmarks [name …]` runs the named benchmarks (default: all) in order."""

import importlib
import sys

BENCHMARKS: list[str] = ["webhook", "reports", "pixel"]


def main(names: list[str]) -> None:
    for name in names or BENCHMARKS:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
        importlib.import_module(f"tests.benchmarks.{name}").run()


if __name__ == "__main__":
    main(sys.argv[1:])
