"""Speed of lip2audspec.auditory against a per-channel scipy.signal.lfilter port (the baseline).

Measured in one run on one core (the process is pinned to one CPU; BLAS threads off):
  * wav2aud on a 3 s 16 kHz clip at [10 10 -2 0]: baseline time, ours, ratio, parity error;
  * aud2wav: seconds per iteration on the same clip, ratio, and whether the error curves agree;
  * corpus throughput: 3 s clips per second spectrogrammed with 1 and 2 worker processes.

Run: ``python benchmarks/bench_auditory.py [--repeats 7] [--clips 48]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lfilter_baseline import baseline_aud2wav, baseline_wav2aud  # noqa: E402

from lip2audspec.auditory import aud2wav, resample, wav2aud  # noqa: E402

PARAS = (10, 10, -2, 0)
SR = 16000
REF = Path(__file__).resolve().parents[1].parent / "shared" / "nsl_reference"


def speech_clip(seconds=3.0, seed=0):
    """3 s of espeak-ng speech at 16 kHz (GRID sentences back to back), or noise if unavailable."""
    try:
        from lip2audspec.corpora.synthetic.speech import Voice, synthesize

        parts, n = [], 0
        for text in ("bin blue at f two now", "place red by g nine soon", "lay white with j zero again"):
            u = synthesize(text, voice=Voice(name="en-us+m3", rate=170))
            parts.append(resample(u.audio, sr_in=u.sr, sr_out=SR))
            n += len(parts[-1])
            if n >= seconds * SR:
                break
        x = np.concatenate(parts)
        kind = "espeak-ng speech"
    except Exception as exc:  # pragma: no cover - no espeak
        print(f"(no espeak speech: {exc}; using noise)")
        x = np.random.default_rng(seed).standard_normal(int(seconds * SR)) * 0.1
        kind = "noise"
    n = int(seconds * SR)
    x = np.pad(x, (0, max(0, n - len(x))))[:n]
    return x, kind


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times)), out


def _spec_one(x):
    return wav2aud(x).shape[0]


def throughput(clips, workers):
    t0 = time.perf_counter()
    if workers == 1:
        for c in clips:
            _spec_one(c)
    else:
        with ProcessPoolExecutor(workers) as ex:
            list(ex.map(_spec_one, clips, chunksize=4))
    return len(clips) / (time.perf_counter() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--iterations", type=int, default=5, help="aud2wav iterations timed")
    ap.add_argument("--clips", type=int, default=48, help="clips for the throughput test")
    args = ap.parse_args(argv)

    affinity = None
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[0]})
        affinity = cpus
    x, kind = speech_clip()
    print(f"input: {len(x) / SR:.1f} s of {kind} at {SR} Hz, parameters {list(PARAS)}; one core (cpu {affinity[0] if affinity else '?'})")

    wav2aud(x[:4000])  # compile / load the JIT cache outside the timing
    print("\n== wav2aud ==")
    tb, tb_med, ref = best_of(lambda: baseline_wav2aud(x, PARAS), args.repeats)
    to, to_med, ours = best_of(lambda: wav2aud(x), args.repeats)
    par = np.abs(ours - ref).max() / np.abs(ref).max()
    print(f"baseline (per-channel lfilter): {tb * 1e3:7.1f} ms  (median {tb_med * 1e3:.1f})")
    print(f"lip2audspec                   : {to * 1e3:7.1f} ms  (median {to_med * 1e3:.1f})")
    print(f"speed-up                      : {tb / to:7.1f}x  (target >= 6x)")
    print(f"parity vs baseline            : {par:.2e} max relative")
    if (REF / "wav2aud" / "speech16k__10_10_m2_0.npy").is_file():
        s = np.load(REF / "signals" / "speech16k.npy")
        r = np.load(REF / "wav2aud" / "speech16k__10_10_m2_0.npy")
        print(f"parity vs NSL toolbox (speech16k, same parameters): {np.abs(wav2aud(s) - r).max() / np.abs(r).max():.2e} max relative")

    print("\n== aud2wav ==")
    spec = ours
    x0 = np.random.default_rng(1).standard_normal(spec.shape[0] * 160)
    aud2wav(spec[:20], n_iter=1)
    k = args.iterations
    tb, _, rb = best_of(lambda: baseline_aud2wav(spec, x0, PARAS, k), max(1, args.repeats // 3))
    to, _, ro = best_of(lambda: aud2wav(spec, x0=x0, n_iter=k), max(1, args.repeats // 3))
    same = np.array_equal(np.round(ro.errors, 2), np.round(rb[2], 2))
    print(f"baseline     : {tb / k:7.3f} s/iteration")
    print(f"lip2audspec  : {to / k:7.3f} s/iteration")
    print(f"speed-up     : {tb / to:7.1f}x  (target >= 6x)")
    print(f"error curves : {'identical' if same else 'DIFFERENT'} ({', '.join(f'{e:.2f}' for e in ro.errors[:, 0])} %)")
    print(f"iterate parity vs baseline: {np.abs(ro.x_best - rb[1]).max() / np.abs(rb[1]).max():.2e} max relative")

    print("\n== corpus throughput (3 s clips) ==")
    if affinity:
        os.sched_setaffinity(0, set(affinity))
    rng = np.random.default_rng(2)
    clips = [np.roll(x, int(rng.integers(len(x)))) for _ in range(args.clips)]
    for workers in (1, 2):
        print(f"{workers} process(es): {throughput(clips, workers):6.1f} clips/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
