"""Oracle quality against aud2wav iterations: ``aud2wav(wav2aud(x), n_iter=k)`` for k in 5/10/20/40.

For every clip: STOI and ESTOI of the oracle against the original, and the GRID recogniser's word
accuracy (pocketsphinx with the GRID grammar; grammar chance 19 %), with 95 % bootstrap intervals over
clips. Two sets of clips:

* **real**: the 100 test clips of GRID speaker s1 (fixed split ``/work/shared/real_grid/s1_split.json``;
  audio = the camera track inside the ``.mpg`` at 16 kHz, as the prepared datasets use). GRID: Cooke,
  Barker, Cunningham, Shao 2006, CC BY 4.0.
* **synthetic**: espeak-ng GRID sentences (voice en-us+m3, seeded sentence ids), 16 kHz.

aud2wav starts from ``aud2wavi`` with the seeded restarts the evaluation uses
(``derived_rng(seed, "oracle", key)``), so the figures repeat. The clips run in 2 worker processes.
Writes ``--out`` (JSON, one entry per set and iteration count; finished clips also go, one JSON line
each, to ``--out`` + ``.jsonl``, which a restart skips) and prints the table that the README's
"aud2wav iterations" section quotes. Run::

    python benchmarks/bench_aud2wav_iterations.py --grid /work/real_s1/grid \\
        --split /work/shared/real_grid/s1_split.json --out aud2wav_iterations.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ITERATIONS = (5, 10, 20, 40)
SEED = 0
_RECOGNIZER = None


def _recognizer():
    global _RECOGNIZER
    if _RECOGNIZER is None:
        from lip2audspec.evaluation.asr import GridRecognizer

        _RECOGNIZER = GridRecognizer()
    return _RECOGNIZER


def score_clip(job):
    """One clip: original audio -> oracle at each iteration count -> STOI, ESTOI, hypothesis."""
    kind, key, source = job
    from lip2audspec.auditory import aud2wav, peak_normalize, wav2aud
    from lip2audspec.evaluation.intelligibility import estoi, stoi
    from lip2audspec.seeding import derived_rng

    sr = 16000
    if kind == "real":
        from lip2audspec.data.audio import read_container_audio

        x = read_container_audio(source, sr=sr)
    else:
        from lip2audspec.auditory import resample
        from lip2audspec.corpora.grid import sentence_from_id
        from lip2audspec.corpora.synthetic.speech import Voice, synthesize

        u = synthesize(" ".join(sentence_from_id(key.split("/")[-1])), voice=Voice(name="en-us+m3", rate=170))
        x = resample(u.audio, sr_in=u.sr, sr_out=sr)
    spec = wav2aud(x)
    x = x[: spec.shape[0] * 160]
    out = {"key": key}
    for k in ITERATIONS:
        t0 = time.perf_counter()
        res = aud2wav(spec, n_iter=k, rng=derived_rng(SEED, "oracle", key), threads=1)
        dt = time.perf_counter() - t0
        y = peak_normalize(res.x_best)[: len(x)]
        out[str(k)] = {"stoi": float(stoi(x, y, sr=sr)), "estoi": float(estoi(x, y, sr=sr)),
                       "hyp": _recognizer().recognize(y, sr=sr), "seconds": dt, "restarts": len(res.restarts)}
    return out


def summarize(rows):
    from lip2audspec.corpora.grid import sentence_from_id
    from lip2audspec.evaluation.asr import word_accuracy
    from lip2audspec.evaluation.summary import bootstrap_ci

    refs = [sentence_from_id(r["key"].split("/")[-1]) for r in rows]
    table = {}
    for k in ITERATIONS:
        per = [r[str(k)] for r in rows]
        acc_clip = [word_accuracy([ref], [p["hyp"]])["accuracy"] for ref, p in zip(refs, per)]
        table[k] = {
            "stoi": bootstrap_ci([p["stoi"] for p in per], seed=SEED),
            "estoi": bootstrap_ci([p["estoi"] for p in per], seed=SEED),
            "words": bootstrap_ci(acc_clip, seed=SEED),
            "seconds_per_clip": float(np.median([p["seconds"] for p in per])),
            "restarts": int(sum(p["restarts"] for p in per)),
        }
    return table


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", default="/work/real_s1/grid", help="GRID folder with s1/*.mpg")
    ap.add_argument("--split", default="/work/shared/real_grid/s1_split.json")
    ap.add_argument("--clips", type=int, default=100, help="clips per set")
    ap.add_argument("--sets", default="real,synthetic")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="aud2wav_iterations.json")
    args = ap.parse_args(argv)
    jobs = {}
    if "real" in args.sets:
        ids = json.loads(Path(args.split).read_text())["test"][: args.clips]
        jobs["real"] = [("real", f"s1/{i}", str(Path(args.grid) / "s1" / f"{i}.mpg")) for i in ids]
    if "synthetic" in args.sets:
        from lip2audspec.corpora.grid import id_from_index

        rng = np.random.default_rng(SEED)
        idx = rng.choice(64000, size=args.clips, replace=False)
        jobs["synthetic"] = [("synthetic", f"synth/{id_from_index(int(i))}", None) for i in idx]
    # one JSON line per finished clip in --out + ".jsonl": a restart skips them, a partial run is usable
    cache = Path(args.out + ".jsonl")
    done = {}
    if cache.is_file():
        for line in cache.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                done[row["key"]] = row
    order = [j for pair in zip(*jobs.values()) for j in pair] if len(jobs) > 1 else next(iter(jobs.values()))
    todo = [j for j in order if j[1] not in done]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as ex, cache.open("a") as fh:
        for row in ex.map(score_clip, todo, chunksize=1):
            done[row["key"]] = row
            fh.write(json.dumps(row, default=list) + "\n")
            fh.flush()
    results = {}
    for name, js in jobs.items():
        rows = [done[j[1]] for j in js if j[1] in done]
        results[name] = {"clips": len(rows), "table": summarize(rows), "rows": rows}
        print(f"\n== {name}: {len(rows)} clips (oracle = aud2wav(wav2aud(x)), seed {SEED}) ==")
        print(f"{'iterations':>10s} {'STOI':>20s} {'ESTOI':>20s} {'words % [95% CI]':>22s} {'s/clip':>7s} restarts")
        for k, t in results[name]["table"].items():
            def f(d, scale=1.0, fmt=".3f"):
                return f"{d['mean'] * scale:{fmt}} [{d['low'] * scale:{fmt}},{d['high'] * scale:{fmt}}]"
            print(f"{k:>10d} {f(t['stoi']):>20s} {f(t['estoi']):>20s} {f(t['words'], 100, '.1f'):>22s} "
                  f"{t['seconds_per_clip']:7.2f} {t['restarts']}")
    print(f"\n(word accuracy: grammar chance 19 %; {time.perf_counter() - t0:.0f} s in all, {args.workers} workers)")
    Path(args.out).write_text(json.dumps(results, indent=1, default=lambda o: list(o) if isinstance(o, tuple) else str(o)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
