"""aud2wav speed against the kernel it replaced (issue 17), measured in one run.

On a 3 s 16 kHz clip at [10 10 -2 0]: seconds per iteration of the pre-issue kernel
(benchmarks/aud2wav_reference.py: forward, forward again per chunk, inverse), of the new one on 1 and 2
threads, with y3 kept (default) or recomputed (``memory_mb=0``), and of a ``wav2aud`` of the same clip;
whether every variant's output is array-equal to the old kernel's; and the throughput of whole
inversions (20 iterations) of many clips, one by one vs :func:`aud2wav_many` on 2 threads.

Each figure is the minimum (and median) over ``--repeats`` rounds that interleave the variants, so the
ratios come from the same moments of a shared machine; wall time and the process CPU time (both threads) are both
printed (CPU time is what a busy machine distorts least; wall time is what 2 threads
win), with the load average before and after. Run: ``python benchmarks/bench_aud2wav.py [--repeats 15]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aud2wav_reference import reference_aud2wav_kernel  # noqa: E402
from bench_auditory import speech_clip  # noqa: E402

from lip2audspec.auditory import _kernels, aud2wav, aud2wav_many, wav2aud  # noqa: E402
from lip2audspec.auditory.params import AuditoryParams  # noqa: E402

A2W = sys.modules["lip2audspec.auditory.aud2wav"]


def load():
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def rounds(variants: dict, repeats: int) -> dict:
    """{name: (wall min, wall median, cpu min, cpu median)} over interleaved rounds."""
    wall = {k: [] for k in variants}
    cpu = {k: [] for k in variants}
    for fn in variants.values():
        fn()  # warm (JIT cache, page faults)
    for _ in range(repeats):
        for k, fn in variants.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    return {k: (min(wall[k]), float(np.median(wall[k])), min(cpu[k]), float(np.median(cpu[k]))) for k in variants}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--clips", type=int, default=8, help="clips for the many-clips throughput")
    ap.add_argument("--iterations", type=int, default=20, help="iterations per clip in the throughput test")
    args = ap.parse_args(argv)
    p = AuditoryParams(frame_ms=10, tc_ms=10, fac=-2, shift=0)
    x, kind = speech_clip()
    target = wav2aud(x)
    n = target.shape[0] * p.frame_len
    guess = np.random.default_rng(1).standard_normal(n)
    print(f"input: {len(x) / 16000:.1f} s of {kind}, [10 10 -2 0]; CPUs usable: {len(os.sched_getaffinity(0))}; "
          f"load average before: {load()}")
    B, A, border, norm = _kernels.block_coefficients()
    out = {}

    def old():
        v5_new, y = np.empty_like(target), np.zeros(n)
        reference_aud2wav_kernel(guess, target, B, A, border, norm, 0, p.fac, False, p.beta, p.alpha, p.frame_len,
                                 v5_new, y)
        out["old kernel"] = (v5_new, y)

    variants = {"wav2aud (same clip)": lambda: wav2aud(x), "old kernel": old}
    for threads in (1, 2):
        for mem in (A2W.DEFAULT_MEMORY_MB, 0):
            runner = A2W._IterationRunner(n, target, p, threads=threads, memory_mb=mem)
            name = f"new, {threads} thread{'s' if threads > 1 else ''}, " + ("y3 kept" if mem else "y3 recomputed")

            def run(runner=runner, name=name):
                out[name] = runner.run(guess)

            variants[name] = run
    res = rounds(variants, args.repeats)
    print(f"load average after: {load()}\n")
    print("== one aud2wav iteration, 3 s clip (ms; min / median of the rounds) ==")
    print(f"{'variant':34s} {'wall':>15s} {'cpu (process)':>15s} {'old/this wall':>14s} {'old/this cpu':>13s} {'/ wav2aud':>10s} array-equal")
    w_old, c_old = res["old kernel"][0], res["old kernel"][2]
    w_w2a = res["wav2aud (same clip)"][0]
    for k, (wmin, wmed, cmin, cmed) in res.items():
        eq = "" if k.startswith("wav2aud") else str(all(np.array_equal(a, b) for a, b in zip(out[k], out["old kernel"])))
        print(f"{k:34s} {wmin * 1e3:6.1f} / {wmed * 1e3:6.1f} {cmin * 1e3:6.1f} / {cmed * 1e3:6.1f} "
              f"{w_old / wmin:13.2f}x {c_old / cmin:12.2f}x {wmin / w_w2a:9.2f}x {eq}")
    print("targets: >= 1.5x the old kernel (step), goal >= 3x (<= 1.25x a wav2aud); cpu column: work of all threads")

    rng = np.random.default_rng(2)
    specs = [wav2aud(np.roll(x, int(rng.integers(len(x))))) for _ in range(args.clips)]
    k = args.iterations
    t0 = time.perf_counter()
    one = [aud2wav(s, n_iter=k, threads=1) for s in specs]
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    two = [aud2wav(s, n_iter=k, threads=2) for s in specs]
    t_two = time.perf_counter() - t0
    t0 = time.perf_counter()
    many = aud2wav_many(specs, n_iter=k, workers=2)
    t_many = time.perf_counter() - t0
    same = all(np.array_equal(a.x_best, b.x_best) and np.array_equal(a.x_best, c.x_best) for a, b, c in zip(one, two, many))
    print(f"\n== {args.clips} clips x {k} iterations (wall), load average now {load()} ==")
    print(f"one by one, 1 thread : {args.clips / t_one:5.2f} clips/s ({t_one / args.clips * 1e3:.0f} ms/clip)")
    print(f"one by one, 2 threads: {args.clips / t_two:5.2f} clips/s ({t_two / args.clips * 1e3:.0f} ms/clip)")
    print(f"aud2wav_many, 2 threads: {args.clips / t_many:5.2f} clips/s ({t_many / args.clips * 1e3:.0f} ms/clip)")
    print(f"identical results: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
