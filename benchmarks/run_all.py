"""Run every benchmark in one process tree: ``python benchmarks/run_all.py [--full]``.

Each benchmark measures its own baseline in the same run and prints ratios. Without ``--full``
the long cases are shortened (exact: anchor cases only; interval/sdp: 10 s per network instead
of 60 s); ``--full`` reproduces the figures recorded in ``docs/methods/``.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv):
    full = "--full" in argv
    runs = [
        ["bench_bounds.py"],
        ["bench_interval.py"],
        ["bench_exact.py"] + ([] if full else ["--quick"]),
        ["bench_methods.py"] + ([] if full else ["--time-limit", "10"]),
        ["bench_exlipbab.py"] + ([] if full else ["--quick"]),
        ["bench_global.py"] + (["--deep"] if full else ["--widths", "16,64", "--limit", "10"]),
    ]
    failed = []
    for args in runs:
        print(f"\n===== {' '.join(args)} =====", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / args[0]), *args[1:]])
        if rc:
            failed.append(args[0])
    if failed:
        print("\nbenchmarks that failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
