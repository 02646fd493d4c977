"""Size and speed of every whole-clip family's ``paper`` preset (the published sizes, meant for a GPU).

For each ``--arch`` the ``paper`` preset's model is built, its parameters counted, one 3 s clip (``--frames``
video frames of random mouth crops at the preset's crop size) predicted (:meth:`infer`: autoregressive for
the attention decoders), and ``--steps`` training steps of ``--batch`` random clips with teacher forcing
taken through the family's own loss (``compile_for_training`` + ``fit``). The first call of each is a
warm-up (graph tracing) and is timed apart. Printed: parameters, warm-up and steady times, the training
clips per second and the epoch over 850 clips (real GRID s1's training split) they imply. Random inputs
measure speed only. Results go to ``OUT/results.json`` (atomically, with the devices TensorFlow saw, the
seed and the settings) and the table to ``OUT/table.md``.

On 2 CPU cores the ``paper`` presets are far too slow to train (that is what the ``small`` presets are
for); run this where a GPU is visible to TensorFlow to see what a ``paper`` training costs there.

Example::

    python benchmarks/bench_paper_presets.py --out paper_speed --batch 2 --steps 3
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

ARCHS = ("framesync", "lip2wav", "lipsound2")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def measure(arch: str, *, frames: int, batch: int, steps: int, seed: int) -> dict:
    """Parameters and timings of ``arch``'s ``paper`` preset on random inputs (see the module docstring)."""
    import keras

    from lip2audspec.models.families import FAMILIES

    keras.utils.set_random_seed(seed)
    fam = FAMILIES[arch]
    config = fam.preset("paper")
    model, build_s = _timed(lambda: fam.model_class(config))
    rng = np.random.default_rng(seed)
    shape = (frames, config.crop_size, config.crop_size, config.channels)
    clip = rng.random((1, *shape), dtype=np.float32)
    _, infer_first_s = _timed(lambda: model.infer(clip))
    _, infer_s = _timed(lambda: model.infer(clip))
    model.compile_for_training(learning_rate=1e-4)
    x = rng.random((batch, *shape), dtype=np.float32)
    y = rng.random((batch, config.frames_per_video_frame * frames, config.out_dim), dtype=np.float32)
    _, step_first_s = _timed(lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0))
    step_s = None
    if steps > 1:
        _, total = _timed(lambda: model.fit(x, y, batch_size=batch, epochs=steps - 1, verbose=0))
        step_s = total / (steps - 1)
    row = {"arch": arch, "params": int(model.count_params()), "crop_size": config.crop_size, "frames": frames,
           "batch": batch, "build_s": build_s, "infer_first_s": infer_first_s, "infer_s": infer_s,
           "step_first_s": step_first_s, "step_s": step_s}
    if step_s:
        row["clips_per_s"] = batch / step_s
        row["epoch_850_s"] = 850 / row["clips_per_s"]
    return row


def _table(rows) -> str:
    lines = ["| family | parameters | crop | infer 3 s clip (first / steady) | training step of "
             f"{rows[0]['batch']} clips (first / steady) | clips/s | 850-clip epoch |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        steady = f"{r['step_s']:.2f} s" if r["step_s"] else "-"
        cps = f"{r['clips_per_s']:.2f}" if r["step_s"] else "-"
        epoch = f"{r['epoch_850_s'] / 60:.1f} min" if r["step_s"] else "-"
        lines.append(f"| `{r['arch']}` | {r['params'] / 1e6:.1f} M | {r['crop_size']} px | {r['infer_first_s']:.2f} / "
                     f"{r['infer_s']:.2f} s | {r['step_first_s']:.1f} / {steady} | {cps} | {epoch} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for results.json and table.md")
    ap.add_argument("--arch", action="append", choices=ARCHS, help="family (repeatable; default: all)")
    ap.add_argument("--frames", type=int, default=75, help="video frames per clip (75 = GRID's 3 s at 25 fps)")
    ap.add_argument("--batch", type=int, default=2, help="clips per training step")
    ap.add_argument("--steps", type=int, default=2, help="training steps (the first is the warm-up)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    for name in ("frames", "batch", "steps"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be >= 1, got {getattr(args, name)}")

    import tensorflow as tf

    from lip2audspec.fileio import write_json_atomic, write_text_atomic

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    devices = [d.name for d in tf.config.list_logical_devices()]
    rows = []
    for arch in args.arch or ARCHS:
        print(f"[{time.strftime('%H:%M:%S')}] {arch} (paper preset)", flush=True)
        rows.append(measure(arch, frames=args.frames, batch=args.batch, steps=args.steps, seed=args.seed))
        write_json_atomic(out / "results.json", {"seed": args.seed, "frames": args.frames, "batch": args.batch,
                                                 "steps": args.steps, "devices": devices, "rows": rows})
    table = _table(rows) + f"\n\nDevices: {', '.join(devices)}; random inputs, seed {args.seed}.\n"
    write_text_atomic(out / "table.md", table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
