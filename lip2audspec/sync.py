"""Audio-visual sync: the SyncNet lip-sync expert, LSE-D / LSE-C and the AV offset of a clip.

The scores (Prajwal et al., Wav2Lip, ACM MM 2020) computed exactly as the reference implementation
``calc_pdist`` / ``evaluate`` of ``joonson/syncnet_python`` computes them:

1. embed every 5-frame video window ``v_i`` (``i = 0 .. n-1``, ``n = T - 4`` windows of a ``T``-frame
   clip) and the audio window of the same 0.2 s ``a_i`` (features ``[4 i, 4 i + 20)``);
2. pad the audio embedding sequence with ``vshift`` (15) **zero vectors** at both ends and take, for every
   window and every shift ``d = -15 .. +15`` video frames, the Euclidean distance
   ``D[i, d] = || v_i - a_{i + d} ||`` (``a_j = 0`` outside ``0 .. n-1``);
3. average over windows: ``m[d] = mean_i D[i, d]``;
4. **LSE-D** ``= min_d m[d]``, **offset** ``= argmin_d m[d]``, **LSE-C** ``= median_d m[d] - min_d m[d]``
   (the median of the 31 values, the middle one, as ``torch.median``).

Conventions and caveats:

* **Offset sign**: positive = the audio is *late* (the sound of video frame ``i`` is heard at frame
  ``i + offset``). The reference prints ``vshift - argmin``, the opposite sign.
* **Windows**: the reference scores ``T - 5`` windows (``range(0, lastframe)`` with ``lastframe = T - 5``,
  which leaves out the last complete window); we score all ``T - 4``. Everything else is the same.
* **End-padding bias**: at shift ``d`` the first (``d < 0``) or last (``d > 0``) ``|d|`` windows are
  compared with a zero vector, i.e. with ``||v_i||`` (1 for our unit-norm embeddings) instead of a real
  audio embedding. On a short clip this share ``|d| / n`` is large (a 75-frame GRID clip: 71 windows,
  21 % at ``|d| = 15``; a 25-frame clip: 71 %), which flattens ``m[d]`` at large shifts, biases the
  median (so LSE-C) and can pull the arg-min towards small shifts. Compare LSE values only between clips
  of similar length, and trust offsets near ``+-vshift`` less on short clips.
* **Scale**: our expert (:mod:`lip2audspec.models.syncnet`, trained with Wav2Lip's cosine-BCE on
  unit-norm embeddings) gives distances in ``[0, sqrt 2]``. **Its LSE-D / LSE-C values are not
  comparable with published ones**, which come from the original SyncNet weights (LSE-D ~ 6-8,
  LSE-C ~ 0-10): compare them only with each other (e.g. a reconstruction against the original audio
  of the same video).

Python API (used by ``lip2audspec sync``, ``prepare --sync-check``, the evaluation report, and the
Wav2Lip generator's sync loss)::

    expert = SyncExpert.load()                      # the bundled expert (or a run folder / bundle name)
    v = expert.embed_video(crops)                   # (T - 4, D): one embedding per 5-frame window
    a = expert.embed_audio(expert.features(audio, n_video_frames=len(crops)))   # (T - 4, D)
    score = lse(v, a)                               # SyncScore(offset_frames, lse_d, lse_c, ...)
    loss = expert.sync_loss(video_windows, audio_windows)   # cosine-BCE, labels 1: differentiable
    score = sync_video("clip.mp4")                  # read, crop mouths, score
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import is_int
from .errors import DataError, ModelError, ParameterError

__all__ = [
    "VSHIFT",
    "MIN_FRAMES",
    "DEFAULT_EXPERT",
    "NOT_COMPARABLE",
    "SyncScore",
    "offset_distances",
    "lse_from_distances",
    "lse",
    "SyncExpert",
    "read_sync_inputs",
    "sync_video",
    "shift_audio",
]

log = logging.getLogger(__name__)

#: shifts examined on each side, in video frames (the reference's default ``--vshift 15``)
VSHIFT = 15
#: fewest video frames a clip must have: one 5-frame window
MIN_FRAMES = 5
#: the bundled expert used when none is named
DEFAULT_EXPERT = "sync-s1"
#: what every printed LSE figure carries
NOT_COMPARABLE = ("LSE values of lip2audspec's own SyncNet expert: not comparable with published LSE-D/LSE-C "
                  "(those use the original SyncNet weights)")


@dataclass
class SyncScore:
    """AV offset and sync scores of one clip (:func:`lse_from_distances`).

    Attributes
    ----------
    offset_frames : int
        Shift with the smallest mean distance, in video frames; positive = audio late.
    lse_d : float
        The smallest mean distance (lower = better sync).
    lse_c : float
        Median over shifts of the mean distance minus its minimum (higher = more confident).
    mean_distances : ndarray, shape (2 vshift + 1,)
        Mean distance per shift ``-vshift .. +vshift``.
    n_windows : int
        Video windows averaged.
    """

    offset_frames: int
    lse_d: float
    lse_c: float
    mean_distances: np.ndarray = field(repr=False)
    n_windows: int = 0

    @property
    def shifts(self) -> np.ndarray:
        v = (len(self.mean_distances) - 1) // 2
        return np.arange(-v, v + 1)

    def to_dict(self) -> dict:
        """JSON-ready: ``offset_frames``, ``lse_d``, ``lse_c``, ``n_windows``, ``mean_distances``."""
        return {"offset_frames": int(self.offset_frames), "lse_d": float(self.lse_d), "lse_c": float(self.lse_c),
                "n_windows": int(self.n_windows), "mean_distances": [float(x) for x in self.mean_distances]}


def _check_vshift(vshift) -> int:
    if not is_int(vshift) or vshift < 0:
        raise ParameterError(f"vshift must be an integer >= 0 (video frames), got {vshift!r}")
    return int(vshift)


def offset_distances(video_emb, audio_emb, *, vshift: int = VSHIFT) -> np.ndarray:
    """Distances of every video window to the audio windows ``-vshift .. +vshift`` frames away.

    The reference ``calc_pdist``: the audio embedding sequence zero-padded by ``vshift`` at both ends.

    Parameters
    ----------
    video_emb, audio_emb : array_like, shape (n, D)
        Embeddings of the same ``n`` windows.
    vshift : int
        Largest shift in video frames (15).

    Returns
    -------
    ndarray, float64, shape (n, 2 vshift + 1)
        ``out[i, j] = || v_i - a_{i + j - vshift} ||`` with ``a = 0`` outside the sequence.

    Examples
    --------
    >>> offset_distances(np.eye(3), np.eye(3), vshift=1)[:, 1]
    array([0., 0., 0.])
    """
    vshift = _check_vshift(vshift)
    v = np.asarray(video_emb, np.float64)
    a = np.asarray(audio_emb, np.float64)
    if v.ndim != 2 or a.shape != v.shape:
        raise ParameterError(f"video and audio embeddings must both be (n, D) of one shape, got {v.shape} and {a.shape}")
    if len(v) == 0:
        raise DataError("no windows to compare (the clip is shorter than one 5-frame window)")
    ap = np.pad(a, ((vshift, vshift), (0, 0)))
    win = 2 * vshift + 1
    idx = np.arange(len(v))[:, None] + np.arange(win)[None, :]
    return np.linalg.norm(v[:, None, :] - ap[idx], axis=-1)


def lse_from_distances(distances, *, vshift: int | None = None) -> SyncScore:
    """Offset, LSE-D and LSE-C from a window x shift distance matrix (:func:`offset_distances`).

    Parameters
    ----------
    distances : array_like, shape (n, 2 vshift + 1)
        Column ``j`` is the shift ``j - vshift``.
    vshift : int, optional
        Default: from the number of columns.

    Returns
    -------
    SyncScore

    Examples
    --------
    >>> d = np.array([[3., 1., 2.], [3., 1., 4.]])    # 2 windows, shifts -1, 0, +1
    >>> s = lse_from_distances(d)
    >>> s.offset_frames, s.lse_d, s.lse_c               # means (3, 1, 3): min 1 at 0, median 3
    (0, 1.0, 2.0)
    """
    d = np.asarray(distances, np.float64)
    if d.ndim != 2 or d.shape[1] % 2 != 1 or d.shape[0] == 0:
        raise ParameterError(f"distances must be (n windows, 2 vshift + 1 shifts) with n >= 1, got shape {d.shape}")
    v = (d.shape[1] - 1) // 2
    if vshift is not None and _check_vshift(vshift) != v:
        raise ParameterError(f"distances have {d.shape[1]} columns, not 2 * {vshift} + 1")
    if not np.all(np.isfinite(d)):
        raise DataError("the distances hold NaN or infinite values")
    m = d.mean(axis=0)
    j = int(np.argmin(m))
    median = float(np.sort(m)[(len(m) - 1) // 2])  # torch.median: the lower middle value
    return SyncScore(offset_frames=j - v, lse_d=float(m[j]), lse_c=median - float(m[j]), mean_distances=m,
                     n_windows=int(d.shape[0]))


def lse(video_emb, audio_emb, *, vshift: int = VSHIFT) -> SyncScore:
    """:func:`lse_from_distances` of :func:`offset_distances`: a clip's offset, LSE-D and LSE-C."""
    return lse_from_distances(offset_distances(video_emb, audio_emb, vshift=vshift))


def shift_audio(audio, frames: int, *, sr: int, fps: float = 25.0) -> np.ndarray:
    """Delay (``frames > 0``: audio late) or advance (``< 0``) a signal by whole video frames, same length.

    Samples shifted in are zeros. Used to make off-sync test pairs.
    """
    if not is_int(frames):
        raise ParameterError(f"frames must be an integer, got {frames!r}")
    x = np.asarray(audio, np.float64)
    n = int(round(abs(frames) * sr / fps))
    if n == 0:
        return x.copy()
    if n >= len(x):
        return np.zeros_like(x)
    if frames > 0:
        return np.concatenate([np.zeros(n), x[:-n]])
    return np.concatenate([x[n:], np.zeros(n)])


# ---------------------------------------------------------------------------------------------------------------
class SyncExpert:
    """A trained SyncNet with what it needs around it: window cutting, audio features, LSE.

    Parameters
    ----------
    model : SyncNet
        A trained model (:class:`lip2audspec.models.syncnet.SyncNet`).
    prepare_config : dict, optional
        The :class:`~lip2audspec.data.prepare.PrepareConfig` of its training data (crop geometry and
        auditory target settings to reproduce at inference).
    source : str, optional
        Where it was loaded from (shown in reports).

    Examples
    --------
    >>> expert = SyncExpert.load()                                     # doctest: +SKIP
    >>> expert.score(crops, expert.features(audio, n_video_frames=75)) # doctest: +SKIP
    SyncScore(offset_frames=0, lse_d=0.61, lse_c=0.42, n_windows=71)
    """

    def __init__(self, model, *, prepare_config: dict | None = None, source: str | None = None):
        from .models.syncnet import SyncNet

        if not isinstance(model, SyncNet):
            raise ModelError(f"a SyncExpert needs a SyncNet model, got {type(model).__name__}")
        self.model = model
        self.config = model.config
        self.prepare_config = dict(prepare_config or {})
        self.source = source or model.name

    # ------------------------------------------------------------------------------------------ loading
    @classmethod
    def load(cls, model=None, *, which: str = "best") -> "SyncExpert":
        """Load from a ``train-sync`` run folder or a bundled expert's name (default :data:`DEFAULT_EXPERT`).

        Raises
        ------
        ParameterError
            Neither a run folder nor a bundled expert.
        ModelError
            The run holds another model kind, or its file cannot be loaded.
        """
        from .training.runs import RunDir

        model = DEFAULT_EXPERT if model is None else model
        p = Path(model)
        if not (p.is_dir() and RunDir(p).exists):
            from .pretrained import bundles

            names = bundles.available()
            if str(model) not in names:
                raise ParameterError(f"{model!r} is neither a train-sync run folder nor a bundled expert; bundled "
                                     f"models: {', '.join(names) or 'none'}")
            b = bundles.load(str(model))
            from .pretrained.sync_bundle import SYNC_RUN

            p = b.path / SYNC_RUN
        run = RunDir(p)
        doc = run.config()
        if doc.get("kind") != "syncnet":
            raise ModelError(f"{p} holds a {doc.get('kind')} run, not a SyncNet (train one with lip2audspec train-sync)")
        net = run.load_model(which)
        return cls(net, prepare_config=(doc.get("data") or {}).get("prepare_config"), source=str(model))

    # ---------------------------------------------------------------------------------------- features
    @property
    def audio_features(self) -> str:
        """``"mfcc"`` or ``"audspec"``."""
        return self.config.audio_features

    @property
    def window(self) -> int:
        return self.config.window

    @property
    def k(self) -> int:
        return self.config.frames_per_video_frame

    def target_config(self):
        """The auditory target settings of the training data (for ``audspec`` features)."""
        from .data.targets import TargetConfig

        t = self.prepare_config.get("target")
        return TargetConfig.from_dict(t) if t else TargetConfig()

    def crop_config(self):
        """The mouth-crop settings of the training data, at the expert's crop size."""
        from .data.crop import CropConfig

        c = self.prepare_config.get("crop")
        cfg = CropConfig.from_dict(c) if c else CropConfig()
        return cfg.replace(size=self.config.crop_size)

    def features(self, audio, *, n_video_frames: int, sr: int = 16000) -> np.ndarray:
        """The expert's audio features of ``audio`` on the video grid: ``(n_video_frames * 4, F)``."""
        from .data.audio_features import sync_audio_features

        tc = self.target_config()
        return sync_audio_features(audio, kind=self.audio_features, n_video_frames=n_video_frames, sr=sr, fps=tc.fps,
                                   target_config=tc)

    # --------------------------------------------------------------------------------------- windows
    def _n_windows(self, n_frames: int) -> int:
        if n_frames < self.window:
            raise DataError(f"the clip has {n_frames} video frames; the lip-sync expert needs at least {self.window} "
                            f"(one {self.window}-frame window)")
        return n_frames - self.window + 1

    def video_windows(self, crops) -> np.ndarray:
        """Every 5-frame window of mouth crops, resized to the expert's size, grey levels in [0, 1].

        Parameters
        ----------
        crops : array_like, shape (T, S, S), uint8 (0-255) or float in [0, 1]

        Returns
        -------
        ndarray, float32, shape (T - 4, 5, S', S')
        """
        from .data.inputs import resize_crops

        c = np.asarray(crops)
        if c.ndim != 3 or c.shape[1] != c.shape[2]:
            raise ParameterError(f"crops must be (T, S, S) grey mouth crops, got shape {c.shape}")
        n = self._n_windows(c.shape[0])
        if c.dtype == np.uint8:
            c = c.astype(np.float32) / 255.0
        c = resize_crops(c.astype(np.float32), self.config.crop_size)
        idx = np.arange(n)[:, None] + np.arange(self.window)[None, :]
        return c[idx].astype(np.float32)

    def audio_windows(self, features, *, n_windows: int | None = None) -> np.ndarray:
        """Windows of audio features matching the video windows: ``(n, 20, F)`` (window ``i`` = frames ``[4 i, 4 i + 20)``).

        Parameters
        ----------
        features : array_like, shape (N, F)
            From :meth:`features` (``N = 4 T`` for a ``T``-frame clip).
        n_windows : int, optional
            Default: every complete window, ``N / 4 - 4``.
        """
        f = np.asarray(features, np.float32)
        if f.ndim != 2 or f.shape[1] != self.config.audio_dim:
            raise ParameterError(f"audio features must be (frames, {self.config.audio_dim}) ({self.audio_features}), "
                                 f"got shape {f.shape}")
        k, w = self.k, self.window
        most = self._n_windows(f.shape[0] // k)
        n = most if n_windows is None else int(n_windows)
        if n > most:
            raise DataError(f"the audio features cover {f.shape[0] // k} video frames; {n} windows need {n + w - 1}")
        idx = k * np.arange(n)[:, None] + np.arange(k * w)[None, :]
        return f[idx]

    # ----------------------------------------------------------------------------------- embeddings
    def embed_video(self, crops, *, batch_size: int = 256, windows: bool = False) -> np.ndarray:
        """Embeddings of every 5-frame window: ``(T - 4, D)`` from crops ``(T, S, S)``.

        With ``windows=True``, ``crops`` are already windows ``(n, 5, S, S)`` in [0, 1] (:meth:`video_windows`).
        """
        x = np.asarray(crops, np.float32) if windows else self.video_windows(crops)
        return self._run(self.model.video_encoder, x, batch_size)

    def embed_audio(self, features, *, batch_size: int = 256, windows: bool = False, n_windows: int | None = None) -> np.ndarray:
        """Embeddings of every audio window: ``(N / 4 - 4, D)`` from features ``(N, F)``.

        With ``windows=True``, ``features`` are already windows ``(n, 20, F)`` (:meth:`audio_windows`).
        """
        x = np.asarray(features, np.float32) if windows else self.audio_windows(features, n_windows=n_windows)
        return self._run(self.model.audio_encoder, x, batch_size)

    @staticmethod
    def _run(model, x, batch_size):
        outs = [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
        return np.concatenate(outs).astype(np.float32) if outs else np.zeros((0, model.output_shape[-1]), np.float32)

    def sync_loss(self, video_windows, audio_windows, labels=None):
        """Wav2Lip's sync loss of a batch (a differentiable tensor; the expert's weights are not updated by it).

        Parameters
        ----------
        video_windows : tensor, shape (B, 5, S, S)
            Mouth windows in [0, 1] (e.g. generated frames' mouth regions).
        audio_windows : tensor, shape (B, 20, F)
        labels : tensor, shape (B,), optional
            Default ones: "these should be in sync" (what a lip generator minimises).

        Returns
        -------
        scalar tensor
            Mean cosine-BCE (:func:`lip2audspec.models.syncnet.sync_bce_loss`).
        """
        import keras

        from .models.syncnet import sync_bce_loss

        v = self.model.video_encoder(video_windows, training=False)
        a = self.model.audio_encoder(audio_windows, training=False)
        if labels is None:
            labels = keras.ops.ones((keras.ops.shape(v)[0],))
        return sync_bce_loss(v, a, labels)

    # -------------------------------------------------------------------------------------------- scores
    def score(self, crops, features, *, vshift: int = VSHIFT) -> SyncScore:
        """Offset, LSE-D and LSE-C of mouth crops ``(T, S, S)`` with audio features ``(>= 4 T, F)``."""
        v = self.embed_video(crops)
        a = self.embed_audio(features, n_windows=len(v))
        return lse(v, a, vshift=vshift)

    def score_audio(self, crops, audio, *, sr: int = 16000, vshift: int = VSHIFT) -> SyncScore:
        """:meth:`score` with the features of ``audio`` (mono, starting with the first video frame)."""
        n = np.asarray(crops).shape[0]
        return self.score(crops, self.features(audio, n_video_frames=n, sr=sr), vshift=vshift)

    def measure_prepared(self, crops, spec, audio) -> dict:
        """``prepare --sync-check``'s measurement of one prepared clip (:mod:`lip2audspec.data.sync_check`).

        Parameters
        ----------
        crops : ndarray, shape (T, S, S)
        spec : ndarray, shape (4 T, 128)
            The clip's auditory target (used as the features of an ``audspec`` expert).
        audio : callable
            Returns the clip's speech at 16 kHz (called by an ``mfcc`` expert only).

        Returns
        -------
        dict
            ``offset_frames``, ``lse_d``, ``lse_c``.
        """
        if self.audio_features == "audspec":
            feats = spec
        else:
            feats = self.features(audio(), n_video_frames=np.asarray(crops).shape[0], sr=self.target_config().auditory.sr)
        s = self.score(crops, feats)
        return {"offset_frames": s.offset_frames, "lse_d": s.lse_d, "lse_c": s.lse_c}

    def __repr__(self):
        return f"SyncExpert({self.source!r}, {self.audio_features}, crops {self.config.crop_size})"


# ---------------------------------------------------------------------------------------------------------------
def read_sync_inputs(video, *, audio=None, sr: int = 16000, fps: float = 25.0, crop_config=None,
                     max_short_s: float = 0.1) -> tuple:
    """Mouth crops of a video and its speech, fitted to the video's duration.

    Parameters
    ----------
    video : str or Path
        Any video OpenCV reads; resampled to ``fps`` when its rate differs.
    audio : str or Path, optional
        A wav file (or another media file with an audio track); default: the video's own audio track.
    sr : int
        Audio rate wanted.
    fps : float
        Video rate wanted (25).
    crop_config : CropConfig, optional
        Mouth cropper (default: dlib landmarks, 48 px).
    max_short_s : float
        The audio may end at most this much before the video (zero-padded); longer audio is cut.

    Returns
    -------
    crops : ndarray, uint8, shape (T, S, S)
    speech : ndarray, float64, shape (round(T / fps * sr),)

    Raises
    ------
    DataError
        Fewer than :data:`MIN_FRAMES` frames, no audio track (and no ``audio``), audio shorter than the
        video, no face, unreadable files.
    """
    from .data.audio import probe_container_audio, read_container_audio
    from .data.crop import CropConfig, crop_mouths
    from .data.video import probe_video, read_video

    video = Path(video)
    info = probe_video(video)
    if info.frames is not None and info.frames < MIN_FRAMES:
        raise DataError(f"{video} has {info.frames} frames; sync needs at least {MIN_FRAMES} (one 0.2 s window)")
    if audio is None:
        if probe_container_audio(video) is None:
            raise DataError(f"{video} has no audio track: pass the speech with --audio WAV")
        speech = read_container_audio(video, sr=sr)
        src = f"the audio track of {video}"
    else:
        audio = Path(audio)
        if audio.suffix.lower() == ".wav":
            from .auditory import read_wav

            speech, _ = read_wav(audio, sr=sr)
        else:
            if probe_container_audio(audio) is None:
                raise DataError(f"{audio} has no audio track")
            speech = read_container_audio(audio, sr=sr)
        src = str(audio)
    speech = np.asarray(speech, np.float64)
    if speech.ndim != 1 or not np.all(np.isfinite(speech)):
        raise DataError(f"{src}: the audio is not a finite mono signal")
    frames = read_video(video, gray=True, fps=fps if info.fps and abs(info.fps - fps) > 0.01 else None).frames
    T = int(frames.shape[0])
    if T < MIN_FRAMES:
        raise DataError(f"{video} decodes to {T} frames; sync needs at least {MIN_FRAMES} (one 0.2 s window)")
    want = int(round(T / fps * sr))
    if len(speech) < want - max_short_s * sr:
        raise DataError(f"{src} lasts {len(speech) / sr:.2f} s, shorter than the video ({T / fps:.2f} s): the audio "
                        "must cover the whole video")
    speech = np.pad(speech, (0, max(0, want - len(speech))))[:want]
    crops = crop_mouths(frames, crop_config or CropConfig(size=48), source=str(video)).crops
    return np.asarray(crops, np.uint8), speech


def sync_video(video, *, audio=None, expert=None, vshift: int = VSHIFT) -> SyncScore:
    """Offset, LSE-D and LSE-C of a talking-face video (its own audio track, or ``audio``).

    Parameters
    ----------
    video : str or Path
    audio : str or Path, optional
        Speech to score against the video (default: the video's audio track).
    expert : SyncExpert, str or Path, optional
        Default: the bundled expert (:data:`DEFAULT_EXPERT`).
    vshift : int
        Shifts examined on each side, in video frames.

    Returns
    -------
    SyncScore

    Raises
    ------
    DataError
        See :func:`read_sync_inputs`.
    """
    if not isinstance(expert, SyncExpert):
        expert = SyncExpert.load(expert)
    tc = expert.target_config()
    crops, speech = read_sync_inputs(video, audio=audio, sr=tc.auditory.sr, fps=tc.fps, crop_config=expert.crop_config())
    return expert.score_audio(crops, speech, sr=tc.auditory.sr, vshift=vshift)
