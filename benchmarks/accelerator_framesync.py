"""Train framesync configurations on a lent GPU (Keras 3 on JAX) and bring them back as run folders (issue 13).

The package's trainer (``lip2audspec train_main``) runs on TensorFlow; the lent accelerator machine has JAX
and PyTorch but no TensorFlow, no network, and takes at most 64 MiB of files per call. The family's graph
code is backend-neutral (``keras.ops``; :class:`~lip2audspec.models.base.ConfiguredModel` passes Keras'
own step through on every backend), so this script moves the data there and the weights back:

``export``
    The train and val clips of a prepared dataset: mouth crops **lossless** (temporal then horizontal
    differences mod 256, xz; split at ``--split-at`` clips into one folder per part, so that each call's
    carry stays under the limit) and the compressed auditory-spectrogram targets quantised to 8 bits (step = max / 255, at
    most half a step of error: 0.005 on real s1, whose targets reach 2.64), time-differenced and xz'd.
``train``
    On the accelerator: decode once, then one process per job of ``--jobs`` (a JSON object ``{name:
    {"preset": "small", "overrides": {...}, "epochs": N, "seed": S}}``) in parallel on the one GPU. Each
    trains as ``train_main --arch framesync`` does, with the family's optimiser defaults for the job's
    preset and ``TrainConfig``'s early-stopping patience (``small``: Adam 1e-3, batch 16,
    ReduceLROnPlateau(val loss, x0.5 after 3 epochs), EarlyStopping(10)), the best val-loss epoch kept; the epoch order is Keras'
    seeded shuffle (not the package pipeline's chunked order). A wall-clock ``--budget-s`` stops every
    job after the epoch that crosses it. Weights (no optimiser state) and the history come back as a tar
    split into 15 MiB parts under ``--out``. The backend is JAX, or PyTorch if a smoke step fails on JAX.
``import``
    Rebuild each job in TensorFlow, load its weights, check the forward pass against the one computed
    on the accelerator (max abs difference printed), and write a run folder (``config.json`` from
    ``--base-run`` with the job's model fields and seed, ``best.keras``, ``history.csv``,
    ``device_training.json``) that ``lip2audspec evaluate`` / ``reconstruct`` accept.

Example (session 10: real s1, 850 train / 50 val clips; two calls, since crops + targets are ~80 MB)::

    python benchmarks/accelerator_framesync.py export --data real_s1/prepared --out .devA .devB --split-at 540
    # call 1, carry .devA:  mkdir -p /tmp/devA && cp .devA/* /tmp/devA/
    # call 2, carry .devB (+ keras, namex, optree wheels):
    #   python3 benchmarks/accelerator_framesync.py train --export /tmp/devA .devB --jobs .devB/jobs.json \\
    #       --out $OUT --budget-s 480
    cat runs.tar.* | tar x -C back/
    python benchmarks/accelerator_framesync.py import back/*.npz --base-run runs/framesync --out runs/
"""

from __future__ import annotations

import argparse
import copy
import csv
import glob
import json
import lzma
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

_XZ = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
_PART = 15 * 1024 * 1024


# ------------------------------------------------------------------------------------------------ export
def encode_crops(crops) -> bytes:
    """Lossless: temporal then horizontal differences mod 256, xz. ``(N, T, H, W)`` uint8."""
    import numpy as np

    d = np.diff(np.diff(crops.astype(np.int16), axis=1, prepend=0), axis=3, prepend=0)
    return lzma.compress((d % 256).astype(np.uint8).tobytes(), format=lzma.FORMAT_XZ, filters=_XZ)


def decode_crops(blob: bytes, shape) -> "np.ndarray":
    """Inverse of :func:`encode_crops` (wrap-around in int16 is a multiple of 256, so exact)."""
    import numpy as np

    d = np.frombuffer(lzma.decompress(blob), np.uint8).reshape(shape).astype(np.int16)
    return (np.cumsum(np.cumsum(d, axis=3), axis=1) % 256).astype(np.uint8)


def decode_targets(blob: bytes, shape, scale: float) -> "np.ndarray":
    """The 8-bit, time-differenced targets of ``export`` back as float32 ``shape`` (within ``scale / 2``)."""
    import numpy as np

    dq = np.frombuffer(lzma.decompress(blob), np.uint8).reshape(shape)
    return (np.cumsum(dq.astype(np.int64), axis=1) % 256).astype(np.float32) * np.float32(scale)


def export(args):
    import numpy as np

    from lip2audspec.data.dataset import GridDataset, dataset_file

    with GridDataset(dataset_file(args.data)) as ds:
        tr, va = ds.split("seen/train"), ds.split("seen/val")
        idx = np.concatenate([tr, va])
        ascending = np.sort(idx)  # h5py reads increasing indices; back to train-then-val order after
        order = np.searchsorted(ascending, idx)
        crops = ds.array("crops", ascending)[order]
        spec = ds.array("spec", ascending)[order]
        ids = [str(v) for v in ds.ids[idx]]
    scale = float(spec.max()) / 255
    q = np.clip(np.round(spec / scale), 0, 255).astype(np.int16)
    outs = [Path(o) for o in args.out]
    cuts = [0, *args.split_at, len(crops)]
    if len(cuts) - 1 != len(outs):
        raise SystemExit(f"--out names {len(outs)} folders, --split-at makes {len(cuts) - 1} parts")
    parts = []
    for k, out in enumerate(outs):
        out.mkdir(parents=True, exist_ok=True)
        blob = encode_crops(crops[cuts[k]:cuts[k + 1]])
        (out / f"crops_{k}.xz").write_bytes(blob)
        parts.append({"file": f"crops_{k}.xz", "clips": [cuts[k], cuts[k + 1]], "mb": len(blob) / 1e6})
    dq = (np.diff(q, axis=1, prepend=0) % 256).astype(np.uint8)
    (outs[-1] / "spec.xz").write_bytes(lzma.compress(dq.tobytes(), format=lzma.FORMAT_XZ, filters=_XZ))
    meta = {"n_train": int(len(tr)), "n_val": int(len(va)), "crops_shape": list(crops.shape),
            "spec_shape": list(spec.shape), "spec_scale": scale, "parts": parts, "ids": ids,
            "source": str(dataset_file(args.data))}
    (outs[-1] / "meta.json").write_text(json.dumps(meta))
    print(json.dumps({k: v for k, v in meta.items() if k != "ids"}, indent=1))
    print(f"targets: {(outs[-1] / 'spec.xz').stat().st_size / 1e6:.1f} MB (8-bit, step {scale:.4f})")


# ------------------------------------------------------------------------------------------------- train
def _decode_export(dirs, work: Path):
    import numpy as np

    from lip2audspec.data.inputs import lip_inputs

    dirs = [Path(d) for d in dirs]
    meta = json.loads(next(d / "meta.json" for d in dirs if (d / "meta.json").is_file()).read_text())
    crops = []
    for part in meta["parts"]:
        path = next((d / part["file"] for d in dirs if (d / part["file"]).is_file()), None)
        if path is None:
            raise SystemExit(f"{part['file']} is in none of {[str(d) for d in dirs]}")
        n = part["clips"][1] - part["clips"][0]
        crops.append(decode_crops(path.read_bytes(), [n, *meta["crops_shape"][1:]]))
    crops = np.concatenate(crops)
    spec_dir = next(d for d in dirs if (d / "spec.xz").is_file())
    spec = decode_targets((spec_dir / "spec.xz").read_bytes(), meta["spec_shape"], meta["spec_scale"])
    x = np.stack([lip_inputs(c) for c in crops]).astype(np.float32)
    n = meta["n_train"]
    work.mkdir(parents=True, exist_ok=True)
    for name, arr in (("xtr", x[:n]), ("ytr", spec[:n]), ("xva", x[n:]), ("yva", spec[n:])):
        np.save(work / f"{name}.npy", arr)
    return n, len(x) - n


def _job_config(job):
    from dataclasses import replace

    from lip2audspec.models.families import family

    over = {k: tuple(v) if isinstance(v, list) else v for k, v in job.get("overrides", {}).items()}
    return replace(family("framesync").preset(job.get("preset", "small")), **over)


def _job_protocol(job) -> dict:
    """``train_main``'s optimiser defaults for the job's preset, and its early-stopping patience."""
    from lip2audspec.models.families import family
    from lip2audspec.training.config import TrainConfig

    return {**family("framesync").training[job.get("preset", "small")], "patience": TrainConfig().patience}


def _backend_env(backend: str, **extra) -> dict:
    """The environment of a subprocess on ``backend`` that imports this checkout's package."""
    root = str(Path(__file__).resolve().parents[1])
    return dict(os.environ, KERAS_BACKEND=backend, XLA_PYTHON_CLIENT_PREALLOCATE="false",
                PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])), **extra)


def _train_one(name, job, work: Path, deadline: float):
    import keras
    import numpy as np

    from lip2audspec.models.framesync import FrameSync

    keras.utils.set_random_seed(int(job["seed"]))
    xtr, ytr = np.load(work / "xtr.npy"), np.load(work / "ytr.npy")
    xva, yva = np.load(work / "xva.npy"), np.load(work / "yva.npy")
    proto = _job_protocol(job)
    model = FrameSync(_job_config(job)).compile_for_training(learning_rate=proto["learning_rate"])
    best = {"val_loss": np.inf, "epoch": -1, "weights": None}
    times = []

    class Keep(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.time()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.time() - self.t0)
            v = float(logs["val_loss"])
            if v < best["val_loss"]:
                best.update(val_loss=v, epoch=epoch, weights=[np.array(w) for w in self.model.get_weights()])
            print(f"{name} ep {epoch} loss {logs['loss']:.4f} val {v:.4f} ({times[-1]:.1f} s)", flush=True)
            if time.time() > deadline:
                print(f"{name}: time budget spent, stopping after epoch {epoch}", flush=True)
                self.model.stop_training = True

    callbacks = [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=proto["lr_factor"],
                                                   patience=proto["lr_patience"], verbose=0),
                 keras.callbacks.EarlyStopping(monitor="val_loss", patience=proto["patience"], verbose=0), Keep()]
    t0 = time.time()
    hist = model.fit(xtr, ytr, validation_data=(xva, yva), batch_size=proto["batch_size"], epochs=int(job["epochs"]), shuffle=True,
                     callbacks=callbacks, verbose=0)
    wall = time.time() - t0
    model.set_weights(best["weights"])
    np.savez(work / f"{name}.npz", check_pred=np.asarray(model.predict(xva[:1], verbose=0)),
             **{f"w{i:03d}": w for i, w in enumerate(model.get_weights())})
    steady = times[1:] or times  # the first epoch includes compilation
    rec = {"name": name, "job": job, "backend": keras.backend.backend(), "keras": keras.__version__,
           "epochs_done": len(times), "best_epoch": best["epoch"], "best_val_loss": best["val_loss"], "wall_s": wall,
           "epoch_s": times, "train_clips_per_s_steady": len(xtr) / (sum(steady) / len(steady)),
           "params": int(model.count_params()), "n_train": int(len(xtr)), "n_val": int(len(xva)),
           "history": {k: [float(v) for v in vals] for k, vals in hist.history.items()}}
    (work / f"{name}.json").write_text(json.dumps(rec))
    print(f"{name} done: {len(times)} epochs, best val loss {best['val_loss']:.4f} at epoch {best['epoch']}, "
          f"{wall:.0f} s", flush=True)


def _smoke(backend: str) -> bool:
    code = ("import keras, numpy as np;"
            "from lip2audspec.models.framesync import FrameSync, FRAMESYNC_PRESETS as P;"
            "m = FrameSync(P['small']).compile_for_training(learning_rate=1e-3);"
            "m.fit(np.zeros((2, 8, 48, 48, 3), 'f4'), np.zeros((2, 32, 128), 'f4'), epochs=1, verbose=0);"
            "print('smoke step ok on', keras.backend.backend(), keras.__version__)")
    r = subprocess.run([sys.executable, "-c", code], env=_backend_env(backend), capture_output=True, text=True, timeout=300)
    print(r.stdout.strip() or f"{backend}: smoke step failed\n{r.stderr[-1500:]}", flush=True)
    return r.returncode == 0


def train(args):
    t_start = time.time()
    work, out = Path(args.work), Path(args.out)
    jobs = json.loads(Path(args.jobs).read_text())
    n_tr, n_va = _decode_export(args.export, work)
    print(f"decoded {n_tr} train + {n_va} val clips in {time.time() - t_start:.0f} s", flush=True)
    backend = next((b for b in ("jax", "torch") if _smoke(b)), None)
    if backend is None:
        raise SystemExit("no Keras backend trains on this machine")
    deadline = t_start + args.budget_s
    env = _backend_env(backend, PYTHONUNBUFFERED="1")
    procs = {}
    for name in jobs:
        log = open(work / f"{name}.log", "w")
        cmd = [sys.executable, __file__, "_child", name, "--jobs", args.jobs, "--work", str(work),
               "--deadline", str(deadline)]
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log)
    for name, (p, log) in procs.items():
        p.wait()
        log.close()
        tail = (work / f"{name}.log").read_text()[-300:].replace("\n", " | ")
        print(f"{name}: exit {p.returncode}; {tail}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    tar = work / "runs.tar"
    with tarfile.open(tar, "w") as t:
        for f in sorted(glob.glob(str(work / "*.npz")) + glob.glob(str(work / "*.json")) + glob.glob(str(work / "*.log"))):
            t.add(f, arcname=os.path.basename(f))
    data = tar.read_bytes()
    for i in range(0, len(data), _PART):
        (out / f"runs.tar.{i // _PART:02d}").write_bytes(data[i:i + _PART])
    print(f"{len(data) / 1e6:.1f} MB in {(len(data) + _PART - 1) // _PART} parts; {time.time() - t_start:.0f} s in all")


def _child(args):
    jobs = json.loads(Path(args.jobs).read_text())
    _train_one(args.name, jobs[args.name], Path(args.work), args.deadline)


# ------------------------------------------------------------------------------------------------ import
def import_runs(args):
    import numpy as np

    from lip2audspec.data.dataset import GridDataset
    from lip2audspec.models.framesync import FrameSync

    base = json.loads((Path(args.base_run) / "config.json").read_text())
    with GridDataset(base["data"]["path"]) as ds:  # the clip the accelerator's check_pred was computed on
        x0 = ds.clip_inputs(int(ds.split("seen/val")[0]))[None]
    for npz in map(Path, args.npz):
        rec = json.loads(npz.with_suffix(".json").read_text())
        run = Path(args.out) / rec["name"]
        if (run / "best.keras").is_file():
            print(f"{run}: already there, skipped")
            continue
        config = _job_config(rec["job"])
        model = FrameSync(config)
        d = np.load(npz)
        model.set_weights([d[k] for k in sorted(k for k in d.files if k.startswith("w"))])
        err = float(np.abs(model.predict(x0, verbose=0) - d["check_pred"]).max())
        cfg = copy.deepcopy(base)
        cfg["model"] = json.loads(json.dumps(config.to_dict()))
        cfg["train"].update(seed=int(rec["job"]["seed"]), epochs=int(rec["job"]["epochs"]))
        run.mkdir(parents=True, exist_ok=True)
        model.save(run / "best.keras")
        (run / "config.json").write_text(json.dumps(cfg, indent=2))
        (run / "device_training.json").write_text(json.dumps(rec, indent=1))
        h = rec["history"]
        with open(run / "history.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["epoch", *h])
            for i in range(len(next(iter(h.values())))):
                w.writerow([i, *(h[k][i] for k in h)])
        print(f"{run}: {rec['params']} parameters, best val loss {rec['best_val_loss']:.4f} at epoch "
              f"{rec['best_epoch']}; forward pass here vs there: max |diff| {err:.4f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="train + val clips of a prepared dataset, compressed for the carry")
    e.add_argument("--data", required=True)
    e.add_argument("--out", nargs="+", required=True, help="one folder per part (the last also gets targets)")
    e.add_argument("--split-at", type=int, nargs="*", default=[], help="clip indices where a new part begins")
    t = sub.add_parser("train", help="on the accelerator")
    t.add_argument("--export", nargs="+", required=True, help="folders holding the exported parts")
    t.add_argument("--jobs", required=True)
    t.add_argument("--out", default=os.environ.get("OUT", "accelerator_out"))
    t.add_argument("--work", default="/tmp/accelerator_work")
    t.add_argument("--budget-s", type=float, default=480.0)
    c = sub.add_parser("_child")
    c.add_argument("name")
    c.add_argument("--jobs", required=True)
    c.add_argument("--work", required=True)
    c.add_argument("--deadline", type=float, required=True)
    i = sub.add_parser("import", help="weights back into run folders")
    i.add_argument("npz", nargs="+")
    i.add_argument("--base-run", required=True, help="a framesync run on the same data (its config.json)")
    i.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    {"export": export, "train": train, "_child": _child, "import": import_runs}[args.cmd](args)


if __name__ == "__main__":
    main()
