"""The 1.0 generator's viseme track and mouth renderer, loaded from git, for before/after figures.

``load_v1(rev)`` returns ``(track_fn, renderer_cls)`` for :func:`visual_ceiling`'s private hooks, built from
``lip2audspec/corpora/synthetic/{visemes,face}.py`` at git revision ``rev`` (a commit of version 1.0).
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

PKG = "lip2audspec.corpora.synthetic"


def _module(rev: str, name: str):
    root = Path(__file__).resolve().parents[1]
    src = subprocess.run(["git", "-C", str(root), "show", f"{rev}:lip2audspec/corpora/synthetic/{name}.py"],
                         capture_output=True, text=True, check=True).stdout
    mod = types.ModuleType(f"{PKG}._v1_{name}")
    mod.__package__ = PKG
    sys.modules[mod.__name__] = mod
    exec(compile(src, f"{rev}:{name}.py", "exec"), mod.__dict__)
    return mod


def load_v1(rev: str = "6404fda"):
    vis = _module(rev, "visemes")
    face = _module(rev, "face")

    def track_fn(u, *, duration, offset, strength, anticipation):
        n = int(round(duration * 1000))
        return vis.viseme_track(u.phonemes, n_frames=n, fps=1000.0, offset=offset, anticipation=anticipation,
                                strength=strength)

    def renderer_cls(face_params):
        return face.FaceRenderer(face.FaceParams.from_dict(face_params.to_dict()))

    return track_fn, renderer_cls
