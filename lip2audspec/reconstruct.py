"""Speech from silent video: mouth crops -> lip network -> (decoder) -> auditory spectrogram -> aud2wav.

:class:`Reconstructor` loads a trained lip network (``best.keras`` of a ``train_main`` run) and the
autoencoder whose codes it predicts, with the data settings they were trained on (crop method and size,
target post-processing, auditory parameters), and turns any video OpenCV can read into a waveform:

1. frames: grayscale, resampled in time to 25 fps (:func:`lip2audspec.data.video.read_video`);
2. mouth crops with the run's cropper (:mod:`lip2audspec.data.crop`);
3. the clip's predicted target (:func:`lip2audspec.inference.predict_clip`: the window network at hop 1
   with overlaps averaged, or a whole-clip family such as ``framesync``);
4. codes -> the autoencoder's decoder -> compressed spectrogram (families that predict the spectrogram
   itself skip it); decompression and re-delay (:func:`spectrogram_from_target`);
5. ``aud2wav`` (``n_iter`` iterations from the ``aud2wavi`` guess) -> audio at 16 kHz.

aud2wav restarts from noise when an iteration blows up; that noise comes from a generator derived from
the reconstructor's ``seed`` and the clip's key (:func:`lip2audspec.seeding.derived_rng`), so a clip's
audio does not depend on which clips were reconstructed before it.

When reference statistics of the training crops are known (``stats=``, or ``crop_stats.json`` in the lip
run folder or the bundled model), every clip's crops are compared with them first
(:func:`lip2audspec.data.stats.compare_crops`): a clip that does not look like the training data is still
reconstructed, with a logged WARNING and the verdict in :attr:`Reconstruction.check`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .auditory import aud2wav, peak_normalize, write_wav
from .data.crop import CropConfig, make_cropper
from .data.stats import STATS_FILE, CropCheck, compare_crops, load_crop_statistics
from .data.targets import TargetConfig, spectrogram_from_target
from .data.video import read_video
from .errors import DataError, ParameterError
from .inference import decode, predict_clip
from .seeding import check_seed, derived_rng
from .training.runs import RunDir

__all__ = ["Reconstruction", "Reconstructor"]

log = logging.getLogger(__name__)


@dataclass
class Reconstruction:
    """What :class:`Reconstructor` produced for one clip.

    Attributes
    ----------
    audio : ndarray, float64, shape (n,)
        Waveform (peak-normalised to 0.99) at ``sr``.
    sr : int
    target : ndarray, float32, shape (k * T, 128)
        Predicted target (compressed spectrogram, as the model was trained).
    spectrogram : ndarray, float64, shape (k * T, 128)
        Decompressed, re-delayed auditory spectrogram given to aud2wav.
    codes : ndarray, float32, shape (k * T, D)
        The model's prediction: bottleneck codes, or (families with ``target="spec"``) the same array as
        ``target``.
    crops : ndarray, uint8, shape (T, S, S) or None
    errors : ndarray, shape (n_iter, 2)
        aud2wav's error curve.
    timings : dict
        Seconds per stage.
    seed : int
        The reconstructor's seed.
    key : str
        The clip key aud2wav's generator was derived from (with ``seed``).
    restarts : tuple of int
        aud2wav iterations that restarted from noise (:attr:`~lip2audspec.auditory.Aud2WavResult.restarts`).
    check : CropCheck or None
        The crops compared with the training crops' statistics (None when the model has none);
        ``check.ok`` is False for a clip that does not look like the training data.
    """

    audio: np.ndarray
    sr: int
    target: np.ndarray
    spectrogram: np.ndarray
    codes: np.ndarray
    crops: np.ndarray | None
    errors: np.ndarray
    timings: dict = field(default_factory=dict)
    seed: int = 0
    key: str = ""
    restarts: tuple = ()
    check: CropCheck | None = None


class Reconstructor:
    """Reconstruct speech from lip videos with a trained lip network.

    Parameters
    ----------
    lip_run : str or Path
        Run folder of ``train_main``, any ``--arch`` (its ``best.keras`` and ``config.json``).
    autoencoder_run : str or Path, optional
        Default: the autoencoder run recorded in the lip run's config (a relative path there is taken
        relative to the lip run folder, as in a bundled model). Not needed (and not loaded) for a
        family that predicts the spectrogram itself (``target="spec"``).
    n_iter : int
        aud2wav iterations (default 20).
    crop : CropConfig, optional
        Override the cropper (crops of another size than the model's are resized, as in training).
    crop_method : {"mask", "haar", "landmarks"}, optional
        Keep the run's crop settings but use another cropper (its mask boxes are dropped).
    seed : int
        Non-negative seed of aud2wav's random restarts (default 0); each clip draws from a generator
        derived from ``(seed, "recon", key)`` (see :meth:`from_crops`), recorded in :class:`Reconstruction`.
    stats : dict or str or Path or False, optional
        Reference statistics of the training crops (:func:`lip2audspec.data.stats.crop_statistics`, or a
        ``crop_stats.json``) for the out-of-distribution check. Default: ``crop_stats.json`` in the lip run
        folder if there is one, else no check; ``False``: no check.

    Examples
    --------
    >>> rec = Reconstructor("runs/lip")                         # doctest: +SKIP
    >>> out = rec.from_video("speaker.mp4")                     # doctest: +SKIP
    >>> write_wav("speech.wav", out.audio, sr=out.sr)           # doctest: +SKIP
    """

    def __init__(self, lip_run, *, autoencoder_run=None, n_iter: int = 20, crop: CropConfig | None = None,
                 crop_method: str | None = None, seed: int = 0, stats=None):
        self.seed = check_seed(seed)
        run = RunDir(lip_run)
        cfg = run.config()
        from .models.families import family_of_kind

        seq_family = family_of_kind(cfg.get("kind"))
        if cfg.get("kind") != "lipnet" and seq_family is None:
            raise ParameterError(f"{run.path} is a {cfg.get('kind')} run; reconstruct needs a lip network run (train_main)")
        needs_ae = seq_family is None or (cfg.get("model") or {}).get("target") == "bottleneck"
        ae_run = (autoencoder_run or cfg.get("autoencoder_run")) if needs_ae else None
        if needs_ae and not ae_run:
            raise ParameterError(f"{run.path} does not record its autoencoder; pass autoencoder_run")
        if ae_run and autoencoder_run is None and not Path(ae_run).is_absolute():
            ae_run = run.path / ae_run  # a relocatable run (bundled model): relative to the lip run
        prep = (cfg.get("data") or {}).get("prepare_config")
        if not prep:
            raise DataError(f"{run.path}/config.json lacks the data preparation settings; retrain or pass them")
        self.target_config = TargetConfig.from_dict(prep["target"])
        self.crop_config = crop or CropConfig.from_dict(prep["crop"])
        if crop_method is not None:
            self.crop_config = self.crop_config.replace(method=crop_method, mask_boxes=None)
        self.window = int(prep["window"]["window"])
        self.fps = float(prep["fps"])
        self.n_iter = n_iter
        self.lipnet = run.load_model("best")
        self.autoencoder = RunDir(ae_run).load_model("best") if ae_run else None
        self._cropper = None
        self.lip_run, self.autoencoder_run = run.path, Path(ae_run) if ae_run else None
        if stats is None and run.file(STATS_FILE).is_file():
            stats = run.file(STATS_FILE)
        self.stats = load_crop_statistics(stats) if stats is not None and stats is not False else None

    @property
    def sr(self) -> int:
        return self.target_config.auditory.sr

    @property
    def cropper(self):
        if self._cropper is None:
            self._cropper = make_cropper(self.crop_config)
        return self._cropper

    def from_video(self, path, *, speaker: str | None = None, key: str | None = None) -> Reconstruction:
        """Reconstruct the speech of a video file (any format/size/fps OpenCV reads).

        ``key``: see :meth:`from_crops` (default: a digest of the mouth crops).

        Raises
        ------
        DataError
            Unreadable video, no face found, or fewer frames than one window.
        """
        t0 = time.perf_counter()
        video = read_video(path, gray=True, fps=self.fps)
        if video.frames.shape[0] < self.window:
            raise DataError(f"video {path} is too short: {video.frames.shape[0]} frames at {self.fps:g} fps, "
                            f"at least {self.window} needed")
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        if self.crop_config.method == "mask" and not (self.crop_config.mask_boxes or {}).get(speaker or ""):
            raise ParameterError("the run used the 'mask' cropper; pass a crop config with a box for this video "
                                 "or use crop=CropConfig(method='landmarks', size=...)")
        crops = self.cropper.crop(video.frames, speaker=speaker, source=str(path)).crops
        t_crop = time.perf_counter() - t0
        rec = self.from_crops(crops, key=key, source=str(path))
        rec.timings = {"read": t_read, "crop": t_crop, **rec.timings}
        return rec

    def from_crops(self, crops, *, key: str | None = None, source: str | None = None) -> Reconstruction:
        """Reconstruct from mouth crops (T, S, S) made with the run's cropper.

        Parameters
        ----------
        crops : array_like, shape (T, S, S)
        key : str, optional
            The clip's identity for aud2wav's generator (e.g. ``"s1/bbaf2n"``). Default: a SHA-256 digest
            of the crops, so the same crops give the same audio whatever ran before.
        source : str, optional
            Where the crops came from, named in the out-of-distribution warning (:meth:`check_crops`).
        """
        crops = np.asarray(crops)
        if key is None:
            digest = hashlib.sha256(repr(crops.shape).encode() + np.ascontiguousarray(crops).tobytes())
            key = "crops:" + digest.hexdigest()[:16]
        elif not isinstance(key, str) or not key:
            raise ParameterError(f"key must be a non-empty string, got {key!r}")
        check = self.check_crops(crops, source=source or key)
        k = self.target_config.frames_per_video_frame
        t0 = time.perf_counter()
        codes = predict_clip(self.lipnet, crops)
        if codes.shape[0] != k * crops.shape[0]:
            raise DataError(f"the model predicted {codes.shape[0]} frames for {crops.shape[0]} video frames, "
                            f"the data settings say {k} per video frame")
        t_lip = time.perf_counter() - t0
        t0 = time.perf_counter()
        target = decode(self.autoencoder, codes) if self.autoencoder is not None else codes
        spec = np.maximum(spectrogram_from_target(target, config=self.target_config), 0.0)
        t_dec = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = self.target_config.auditory
        if not np.any(spec):
            raise DataError("the predicted spectrogram is all zeros; nothing to invert")
        res = aud2wav(spec, n_iter=self.n_iter, rng=derived_rng(self.seed, "recon", key), **p.to_dict())
        audio = peak_normalize(res.x_best)
        t_inv = time.perf_counter() - t0
        return Reconstruction(audio=audio, sr=p.sr, target=target, spectrogram=spec, codes=codes, crops=crops,
                              errors=res.errors, timings={"lipnet": t_lip, "decode": t_dec, "aud2wav": t_inv},
                              seed=self.seed, key=key, restarts=res.restarts, check=check)

    def check_crops(self, crops, *, source: str | None = None) -> CropCheck | None:
        """Compare a clip's crops with the training crops' statistics; log a WARNING if they differ.

        Parameters
        ----------
        crops : array_like, shape (T, S, S)
        source : str, optional
            Named in the warning (a video path, a clip key).

        Returns
        -------
        CropCheck or None
            None when the reconstructor has no statistics (``stats``).
        """
        if self.stats is None:
            return None
        check = compare_crops(crops, self.stats)
        if not check.ok:
            log.warning("%s%s", f"{source}: " if source else "", check.message())
        return check

    def write(self, rec: Reconstruction, path) -> Path:
        """Write the reconstruction as a 16-bit wav."""
        return write_wav(path, rec.audio, sr=rec.sr)
