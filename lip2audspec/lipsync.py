"""Speech -> lips: regenerate the lower face of a talking-face video in sync with any speech (Wav2Lip).

:class:`LipSyncer` loads a trained Wav2Lip generator (:mod:`lip2audspec.models.wav2lip`, a
``train-lipsync`` run) and, for a face video of any frame rate and size and a speech signal,

1. reads the video as RGB at 25 fps (:func:`lip2audspec.data.video.read_video`) and loops it back and forth
   (``loop="bounce"``; or ``"repeat"``) or trims it to the speech's length;
2. finds the mouth in every frame (dlib landmarks, smoothed; or one OpenCV Haar box) and the face box
   around it (:func:`lip2audspec.data.faces.face_boxes`, the geometry the generator was trained on);
3. computes the compressed auditory spectrogram of the speech (16 kHz,
   :func:`lip2audspec.data.targets.auditory_target`) and each frame's 0.2 s window;
4. generates each face from its masked self, itself as the reference (as the reference inference does) and
   its speech window, and pastes the lower half back with feathered blending
   (:func:`lip2audspec.data.faces.paste_faces`).

:func:`lipsync_video` writes the result with the speech muxed in (:func:`lip2audspec.data.mux.write_av`).

Examples
--------
>>> syncer = LipSyncer.from_run("runs/wav2lip")                             # doctest: +SKIP
>>> res = syncer.sync("face.mp4", "speech.wav")                             # doctest: +SKIP
>>> res.frames.shape, res.fps                                              # doctest: +SKIP
((75, 288, 360, 3), 25.0)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data.faces import crop_faces, face_boxes, locate_mouths, paste_faces
from .errors import DataError, ParameterError

__all__ = ["LipSyncResult", "LipSyncer", "lipsync_video", "loop_indices", "FPS", "SR"]

log = logging.getLogger(__name__)

#: frame rate the generator works at (its audio windows are 4 x 10 ms per frame)
FPS = 25.0
#: sample rate of the auditory spectrogram
SR = 16000
LOOP_MODES = ("bounce", "repeat", "none")


@dataclass
class LipSyncResult:
    """What :meth:`LipSyncer.sync` produced.

    Attributes
    ----------
    frames : ndarray, uint8, shape (T, H, W, 3)
        RGB frames at :data:`FPS` with the regenerated lower face.
    fps : float
    audio : ndarray, float64, shape (n,)
        The speech at ``sr``, cut or zero-padded to ``T / fps`` seconds.
    sr : int
    faces : ndarray, uint8, shape (T, S, S, 3)
        The generated face crops.
    input_faces : ndarray, uint8, shape (T, S, S, 3)
        The face crops of the driving video (same boxes).
    boxes : ndarray, float64, shape (T, 4)
        Face boxes in source pixels.
    source_index : ndarray, int, shape (T,)
        The driving video's frame behind each output frame (looping).
    timings : dict
        Seconds per stage.
    """

    frames: np.ndarray
    fps: float
    audio: np.ndarray
    sr: int
    faces: np.ndarray
    input_faces: np.ndarray
    boxes: np.ndarray
    source_index: np.ndarray
    timings: dict = field(default_factory=dict)


def loop_indices(n_source: int, n_out: int, *, mode: str = "bounce") -> np.ndarray:
    """Source frame index of each output frame when a clip of ``n_source`` frames must cover ``n_out``.

    ``"bounce"`` plays it forward, backward, forward... (no jump at the seam); ``"repeat"`` starts over;
    ``"none"`` holds the last frame. A longer source is trimmed.

    Examples
    --------
    >>> loop_indices(3, 7).tolist(), loop_indices(3, 7, mode="repeat").tolist()
    ([0, 1, 2, 1, 0, 1, 2], [0, 1, 2, 0, 1, 2, 0])
    """
    if mode not in LOOP_MODES:
        raise ParameterError(f"loop mode must be one of {LOOP_MODES}, got {mode!r}")
    if n_source < 1 or n_out < 0:
        raise ParameterError(f"need n_source >= 1 and n_out >= 0, got {n_source}, {n_out}")
    t = np.arange(n_out)
    if mode == "repeat" or n_source == 1:
        return t % n_source
    if mode == "none":
        return np.minimum(t, n_source - 1)
    period = 2 * (n_source - 1)
    p = t % period
    return np.where(p < n_source, p, period - p)


class LipSyncer:
    """A trained Wav2Lip generator with the settings its training data used.

    Parameters
    ----------
    model : Wav2Lip
        The generator (e.g. ``RunDir(run).load_model("best")``).
    face_scale : float
        Face side / mouth-box side the training faces were cut with (the run's ``faces.scale``; 2).
    detector : {"landmarks", "haar"}
        How mouths are found in the driving video.
    batch_size : int
        Frames per generator call.
    """

    def __init__(self, model, *, face_scale: float = 2.0, detector: str = "landmarks", batch_size: int = 32):
        if not hasattr(model, "generate") or not hasattr(model, "config"):
            raise ParameterError(f"model must be a Wav2Lip generator, got {type(model).__name__}")
        if detector not in ("landmarks", "haar"):
            raise ParameterError(f"detector must be 'landmarks' or 'haar', got {detector!r}")
        self.model, self.face_scale, self.detector, self.batch_size = model, float(face_scale), detector, int(batch_size)
        self.config = model.config

    @classmethod
    def from_run(cls, run_dir, *, which: str = "best", **kwargs) -> "LipSyncer":
        """Load the generator of a ``train-lipsync`` run folder (``best.keras`` or ``model.keras``).

        Raises
        ------
        FileNotFoundError
            No run (or no checkpoint) there.
        ModelError
            The checkpoint cannot be loaded, or the run is not a Wav2Lip run.
        """
        from .errors import ModelError
        from .training.runs import RunDir

        run = RunDir(run_dir)
        doc = run.config()
        if doc.get("kind") != "wav2lip":
            raise ModelError(f"{run.path} holds a {doc.get('kind')!r} run, not a Wav2Lip (train-lipsync) run")
        model = run.load_model(which)
        return cls(model, face_scale=float((doc.get("faces") or {}).get("scale", 2.0)), **kwargs)

    # -------------------------------------------------------------------------------------------- inputs
    @staticmethod
    def _speech(speech, sr) -> np.ndarray:
        from .auditory import read_wav, resample

        if isinstance(speech, (str, Path)):
            x, _ = read_wav(speech, sr=SR)
        else:
            if sr is None:
                raise ParameterError("speech given as an array needs its sample rate (sr=...)")
            x = np.asarray(speech, np.float64)
            if x.ndim != 1:
                raise ParameterError(f"speech must be mono (1-D), got shape {x.shape}")
            if not np.all(np.isfinite(x)):
                raise DataError("the speech holds NaN or infinite samples")
            x = resample(x, sr_in=int(sr), sr_out=SR) if int(sr) != SR else x
        if len(x) < SR * 0.2:
            raise DataError(f"the speech lasts {len(x) / SR:.3f} s; at least 0.2 s is needed")
        return x

    @staticmethod
    def _video(video) -> np.ndarray:
        from .data.video import read_video

        if isinstance(video, (str, Path)):
            return read_video(video, gray=False, fps=FPS).frames
        f = np.asarray(video)
        if f.dtype != np.uint8 or f.ndim != 4 or f.shape[-1] != 3 or len(f) == 0:
            raise ParameterError(f"video frames must be uint8 RGB (T, H, W, 3) at {FPS:g} fps, got {f.dtype} {f.shape}")
        return f

    # ---------------------------------------------------------------------------------------- generation
    def sync(self, video, speech, *, sr: int | None = None, loop: str = "bounce", mouth_boxes=None) -> LipSyncResult:
        """Regenerate the lower face of ``video`` to say ``speech``.

        Parameters
        ----------
        video : str or Path or ndarray
            A video file (any fps and size; resampled to 25 fps), or RGB frames ``(T, H, W, 3)`` at 25 fps.
        speech : str or Path or ndarray
            A wav file, or a mono signal (with ``sr``).
        sr : int, optional
            Sample rate of an array ``speech``.
        loop : {"bounce", "repeat", "none"}
            How a video shorter than the speech is extended (:func:`loop_indices`); a longer one is trimmed.
        mouth_boxes : ndarray, shape (T_video, 4), optional
            Mouth boxes of the video's frames (skips detection, e.g. a prepared dataset's ``boxes``).

        Returns
        -------
        LipSyncResult

        Raises
        ------
        DataError
            Unreadable video or audio, no face found, speech shorter than 0.2 s.
        """
        from .data.targets import TargetConfig, auditory_target
        from .training.lipsync_data import frame_audio_windows, to_generator_inputs

        t = {}
        t0 = time.perf_counter()
        x = self._speech(speech, sr)
        frames = self._video(video)
        n = int(np.ceil(len(x) / SR * FPS - 1e-9))
        x = np.pad(x, (0, max(0, int(round(n / FPS * SR)) - len(x))))[: int(round(n / FPS * SR))]
        t["read"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if mouth_boxes is None:
            mouth_boxes = locate_mouths(frames, method=self.detector)
        mouth_boxes = np.asarray(mouth_boxes, np.float64)
        if mouth_boxes.shape != (len(frames), 4):
            raise ParameterError(f"mouth_boxes must have shape ({len(frames)}, 4), got {mouth_boxes.shape}")
        idx = loop_indices(len(frames), n, mode=loop)
        boxes = face_boxes(mouth_boxes, scale=self.face_scale)[idx]
        src = frames[idx]
        S = self.config.face_size
        faces_in = crop_faces(src, boxes, size=S)
        t["detect"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        spec = auditory_target(x, n_video_frames=n, config=TargetConfig())
        audio = frame_audio_windows(spec, n_frames=n, k=4, frames=self.config.audio_frames)
        t["audio"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        gen = self.model.generate(to_generator_inputs(faces_in, faces_in), audio, batch_size=self.batch_size)
        faces = np.clip(gen * 255.0 + 0.5, 0, 255).astype(np.uint8)
        t["generate"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = paste_faces(src, faces, boxes)
        t["paste"] = time.perf_counter() - t0
        return LipSyncResult(frames=out, fps=FPS, audio=x, sr=SR, faces=faces, input_faces=faces_in, boxes=boxes,
                             source_index=idx, timings=t)


def lipsync_video(video, speech, out, *, model, loop: str = "bounce", detector: str = "landmarks") -> LipSyncResult:
    """``video`` + ``speech`` -> ``out`` (mp4 with the speech as its audio track) with a trained generator.

    Parameters
    ----------
    video, speech : str or Path
    out : str or Path
        ``.mp4`` (or ``.mkv`` / ``.mov``).
    model : str or Path or LipSyncer
        A ``train-lipsync`` run folder or a :class:`LipSyncer`.
    loop, detector
        See :meth:`LipSyncer.sync` and :class:`LipSyncer`.

    Returns
    -------
    LipSyncResult
    """
    from .data.mux import write_av

    if Path(out).suffix.lower() not in (".mp4", ".mkv", ".mov"):
        raise ParameterError(f"output must be .mp4, .mkv or .mov, got {Path(out).name!r}")
    syncer = model if isinstance(model, LipSyncer) else LipSyncer.from_run(model, detector=detector)
    res = syncer.sync(video, speech, loop=loop)
    t0 = time.perf_counter()
    write_av(out, res.frames, fps=res.fps, audio=res.audio, sr=res.sr)
    res.timings["write"] = time.perf_counter() - t0
    return res
