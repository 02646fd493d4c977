"""Cold start of ``lip2audspec reconstruct``: a fresh process with an empty numba cache, to the first wav.

Runs the CLI on one video in fresh processes, alternating the variants so that they share the machine's
moments: ``cold`` (empty ``NUMBA_CACHE_DIR``, kernels compiled in the background while TensorFlow loads:
the default), ``cold, no warm-up`` (``LIP2AUDSPEC_WARMUP=0``: compiled at the first aud2wav, as before
issue 17), ``after lip2audspec compile`` (the numba cache a user has after ``make`` installed the package
and ran ``lip2audspec compile``); and, with ``--before PATH`` (a checkout of the code before issue 17),
``before, cold``. Prints wall and CPU seconds (user + system of the child) per run, medians, and
the ratios to ``before``/``no warm-up``, with the load average. Run::

    python benchmarks/bench_cold_start.py --video /work/real_s1/grid/s1/bbaf2n.mpg --model grid-s1 \\
        --before /work/main --repeats 2
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def run_cli(video, model, *, pythonpath, cache_dir, env_extra=None) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(pythonpath), NUMBA_CACHE_DIR=str(cache_dir), TF_CPP_MIN_LOG_LEVEL="3",
               **(env_extra or {}))
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "lip2audspec.cli.main", "reconstruct", str(video), "-m", model,
                               "-o", str(Path(tmp) / "out.wav"), "--quiet"], env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0 or not (Path(tmp) / "out.wav").is_file():
            raise RuntimeError(f"reconstruct failed: {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", required=True)
    ap.add_argument("--model", default="grid-s1")
    ap.add_argument("--before", help="checkout of the pre-issue-17 code (its root, put on PYTHONPATH)")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    variants = {"cold (warm-up in background)": (ROOT, None, True),
                "cold, no warm-up": (ROOT, {"LIP2AUDSPEC_WARMUP": "0"}, True),
                "after `lip2audspec compile`": (ROOT, None, False)}
    if args.before:
        variants["before, cold"] = (Path(args.before), None, True)
    print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    res = {k: [] for k in variants}
    warm_cache = Path(tempfile.mkdtemp(prefix="nbwarm."))
    # the cache a user has after installing: `make` runs `lip2audspec compile` (timed here too)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lip2audspec.cli.main", "compile", "--quiet"], check=True,
                   env=dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(warm_cache)))
    print(f"lip2audspec compile (once, after installing): {time.perf_counter() - t0:.1f} s wall", flush=True)
    for rep in range(args.repeats):
        for name, (path, env, cold) in variants.items():
            cache = Path(tempfile.mkdtemp(prefix="nbcold.")) if cold else warm_cache
            try:
                res[name].append(run_cli(args.video, args.model, pythonpath=path, cache_dir=cache, env_extra=env))
            finally:
                if cold:
                    shutil.rmtree(cache, ignore_errors=True)
            print(f"  run {rep + 1} {name:30s} wall {res[name][-1][0]:6.1f} s  cpu {res[name][-1][1]:6.1f} s", flush=True)
    shutil.rmtree(warm_cache, ignore_errors=True)
    print(f"load average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    ref = "before, cold" if args.before else "cold, no warm-up"
    w_ref = np.median([w for w, _ in res[ref]])
    c_ref = np.median([c for _, c in res[ref]])
    print(f"\n{'variant':32s} {'wall s (median)':>16s} {'cpu s (median)':>15s} {ref + ' / this':>26s} (wall, cpu)")
    for name, rows in res.items():
        w, c = np.median([r[0] for r in rows]), np.median([r[1] for r in rows])
        print(f"{name:32s} {w:16.1f} {c:15.1f} {w_ref / w:17.2f}x {c_ref / c:6.2f}x")
    print("target: halve the cold start")
    return 0


if __name__ == "__main__":
    sys.exit(main())
