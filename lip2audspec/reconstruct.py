"""Speech from silent video: mouth crops -> lip network -> (decoder) -> auditory spectrogram -> aud2wav.

:class:`Reconstructor` loads a trained lip network (``best.keras`` of a ``train_main`` run) and the
autoencoder whose codes it predicts, with the data settings they were trained on (crop method and size,
target post-processing, auditory parameters), and turns any video OpenCV can read into a waveform:

1. frames: grayscale, resampled in time to 25 fps (:func:`lip2audspec.data.video.read_video`);
2. mouth crops with the run's cropper (:mod:`lip2audspec.data.crop`);
3. the clip's predicted target (:func:`lip2audspec.inference.predict_clip`: the window network at hop 1
   with overlaps averaged, or a whole-clip family such as ``framesync``);
4. codes -> the autoencoder's decoder -> compressed spectrogram (families that predict the spectrogram
   itself skip it); decompression and re-delay (:func:`spectrogram_from_target`); with ``voice_f0``, a
   steady voice's harmonics put in (:func:`lip2audspec.auditory.harmonics.impose_harmonics`);
5. ``aud2wav`` (``n_iter`` iterations from the ``aud2wavi`` guess) -> audio at 16 kHz.

Videos of any length (:meth:`Reconstructor.from_video`, :meth:`Reconstructor.stream`): a video of at most
``chunk`` frames (default 75, 3 s at 25 fps, the training length: every GRID clip) goes through the steps
above as one clip, exactly as before. A longer one is processed as a stream in bounded memory: frames are
decoded one at a time (:class:`~lip2audspec.data.video.FrameStream`), the mouth is tracked
(:class:`~lip2audspec.data.track.MouthTracker`: periodic re-detection, median smoothing, interpolation,
lost faces held), the lip network runs on overlapping chunks of crops cross-faded at the seams
(:func:`lip2audspec.inference.predict_stream`), and ``aud2wav`` inverts overlapping 4 s chunks of the
spectrogram joined by waveform cross-fades (:func:`lip2audspec.auditory.stream.aud2wav_stream`);
:meth:`Reconstructor.stream` writes the wav as it goes (peak memory independent of the length).

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
from .auditory.harmonics import impose_harmonics
from .auditory.stream import DEFAULT_CHUNK_FRAMES, DEFAULT_OVERLAP_FRAMES, WavStreamWriter, aud2wav_stream
from .data.crop import CropConfig, MaskCropper, make_cropper
from .data.stats import STATS_FILE, CropCheck, compare_crops, load_crop_statistics
from .data.targets import TargetConfig, decompress, spectrogram_from_target
from .data.track import MouthTracker, TrackConfig
from .data.video import FrameStream
from .errors import DataError, ParameterError
from .inference import DEFAULT_OVERLAP, decode, is_sequence_model, predict_clip, predict_stream, window_predictor
from .seeding import check_seed, derived_rng
from .training.runs import RunDir

__all__ = ["Reconstruction", "StreamedReconstruction", "Reading", "Reconstructor"]

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


@dataclass
class StreamedReconstruction:
    """What :meth:`Reconstructor.stream` wrote for one video (the audio is in ``output``, not in memory).

    Attributes
    ----------
    source : str
        The video.
    output : Path
        The wav written (16-bit, peak-normalised to 0.99).
    sr : int
    n_frames : int
        Video frames processed (at the model's fps).
    duration : float
        Seconds of audio written.
    detection_rate : float
        Fraction of frames whose mouth box came from a face seen within ``detect_every`` frames.
    timings : dict
        Seconds per stage (``read``, ``crop``, ``lipnet``, ``decode``, ``aud2wav``, ``write``).
    seed : int
    key : str
    restarts : int
        aud2wav restarts from noise over all chunks.
    check : CropCheck or None
        The out-of-distribution check of the first ``chunk`` frames' crops.
    streamed : bool
        False when the video fitted in one chunk and went through the one-clip path.
    """

    source: str
    output: Path
    sr: int
    n_frames: int
    duration: float
    detection_rate: float
    timings: dict = field(default_factory=dict)
    seed: int = 0
    key: str = ""
    restarts: int = 0
    check: CropCheck | None = None
    streamed: bool = True


@dataclass
class Reading:
    """Words lip-read from a video (:meth:`Reconstructor.read`): recognised in the reconstructed speech.

    Attributes
    ----------
    words : tuple of str
        The recognised words (empty when nothing was recognised).
    confidences : tuple of float or None
        Per-word posterior probability from the recogniser's lattice (0..1), or None per word where it
        gives none.
    times : tuple of (float, float)
        Start and end of each word in seconds.
    grammar : str
        ``"grid"`` (GRID sentence grammar) or ``"open"`` (the recogniser's general English model).
    reconstruction : Reconstruction
        The speech the words were recognised in.
    """

    words: tuple
    confidences: tuple
    times: tuple
    grammar: str
    reconstruction: Reconstruction

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def to_dict(self) -> dict:
        return {"text": self.text, "grammar": self.grammar,
                "words": [{"word": w, "confidence": c, "start_s": round(a, 3), "end_s": round(b, 3)}
                          for w, c, (a, b) in zip(self.words, self.confidences, self.times)],
                "source_seconds": round(len(self.reconstruction.audio) / self.reconstruction.sr, 3)}


class _Timed:
    """Wrap an iterator; ``seconds`` accumulates the time spent in its ``next`` (inclusive of upstream)."""

    def __init__(self, it):
        self.it, self.seconds = iter(it), 0.0

    def __iter__(self):
        while True:
            t0 = time.perf_counter()
            try:
                item = next(self.it)
            except StopIteration:
                self.seconds += time.perf_counter() - t0
                return
            self.seconds += time.perf_counter() - t0
            yield item


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
    detect_every, landmark_step : int, optional
        Override the landmark cropper's ``CropConfig.detect_every`` (face detector every k frames, the
        face tracked by its landmarks in between) and ``CropConfig.landmark_step`` (landmarks on every
        k-th frame, the mouth box interpolated between); default: the run's, 1 for runs made before.
    seed : int
        Non-negative seed of aud2wav's random restarts (default 0); each clip draws from a generator
        derived from ``(seed, "recon", key)`` (see :meth:`from_crops`), recorded in :class:`Reconstruction`.
    stats : dict or str or Path or False, optional
        Reference statistics of the training crops (:func:`lip2audspec.data.stats.crop_statistics`, or a
        ``crop_stats.json``) for the out-of-distribution check. Default: ``crop_stats.json`` in the lip run
        folder if there is one, else no check; ``False``: no check.
    chunk : int, optional
        Video frames per chunk of the lip network on long videos, and the longest video processed as one
        clip. Default: the run's training clip length (``n_frames``, 75 for GRID), else
        :data:`~lip2audspec.inference.DEFAULT_CHUNK`.
    overlap : int
        Video frames shared by consecutive chunks (default :data:`~lip2audspec.inference.DEFAULT_OVERLAP`).
    audio_chunk, audio_overlap : int
        Spectrogram frames per aud2wav chunk and their overlap (defaults 400 and 48: 4 s and 0.48 s).
    track : TrackConfig, optional
        How the mouth is tracked through videos longer than ``chunk`` (default ``TrackConfig()``).
    hop : int
        Frames between the window network's windows on videos longer than ``chunk`` (default 1: every
        window, overlaps averaged, as on one clip; ``window``: 5x less work, no averaging).
    voice_f0 : float, optional
        Put a steady voice's harmonics at this pitch (Hz) into the predicted spectrogram before aud2wav
        (:func:`~lip2audspec.auditory.harmonics.impose_harmonics`): the lips do not show the pitch, so the
        prediction lacks the harmonic ridges and inverts to breathy, noise-excited speech. Use the speaker's
        typical pitch (:func:`~lip2audspec.auditory.harmonics.estimate_f0` on training targets; real GRID
        s1: 107 Hz). Default None: the published path, no harmonics.
    voice_strength : float
        Exponent of the imposed ripple (default 1; 0 is the same as no ``voice_f0``).

    Examples
    --------
    >>> rec = Reconstructor("runs/lip")                         # doctest: +SKIP
    >>> out = rec.from_video("speaker.mp4")                     # doctest: +SKIP
    >>> write_wav("speech.wav", out.audio, sr=out.sr)           # doctest: +SKIP
    >>> rec.stream("lecture.mp4", "lecture.wav")                # any length, bounded memory  # doctest: +SKIP
    >>> rec.read("clip.mpg").text                               # lip reading to text       # doctest: +SKIP
    'bin blue at f two now'
    """

    def __init__(self, lip_run, *, autoencoder_run=None, n_iter: int = 20, crop: CropConfig | None = None,
                 crop_method: str | None = None, seed: int = 0, stats=None, chunk: int | None = None,
                 overlap: int = DEFAULT_OVERLAP, audio_chunk: int = DEFAULT_CHUNK_FRAMES,
                 audio_overlap: int = DEFAULT_OVERLAP_FRAMES, track: TrackConfig | None = None, hop: int = 1,
                 detect_every: int | None = None, landmark_step: int | None = None, voice_f0: float | None = None,
                 voice_strength: float = 1.0):
        self.seed = check_seed(seed)
        run = RunDir(lip_run)
        cfg = run.config()
        from .models.families import lip_run_needs_autoencoder

        needs_ae = lip_run_needs_autoencoder(cfg, source=run.path)
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
            keep = crop_method == "landmarks"
            self.crop_config = self.crop_config.replace(
                method=crop_method, mask_boxes=None, detect_every=self.crop_config.detect_every if keep else 1,
                landmark_step=self.crop_config.landmark_step if keep else 1)
        speedups = {k: v for k, v in (("detect_every", detect_every), ("landmark_step", landmark_step)) if v is not None}
        if speedups:
            self.crop_config = self.crop_config.replace(**speedups)
        self.window = int(prep["window"]["window"])
        self.fps = float(prep["fps"])
        from .chunking import chunk_starts

        self.chunk = int(chunk if chunk is not None else prep.get("n_frames") or 75)
        self.overlap = int(overlap)
        chunk_starts(0, chunk=self.chunk, overlap=self.overlap)  # validates chunk and overlap
        chunk_starts(0, chunk=audio_chunk, overlap=audio_overlap)
        if self.chunk - self.overlap < self.window:
            raise ParameterError(f"chunk - overlap must be at least the model's window ({self.window} frames), "
                                 f"got chunk {self.chunk}, overlap {self.overlap}")
        self.audio_chunk, self.audio_overlap = int(audio_chunk), int(audio_overlap)
        if isinstance(hop, bool) or not isinstance(hop, (int, np.integer)) or not 1 <= hop <= self.window:
            raise ParameterError(f"hop must be an integer in [1, window = {self.window}], got {hop!r}")
        self.hop = int(hop)
        if voice_f0 is not None:  # validated here, not at the first clip
            impose_harmonics(np.ones((1, 128)), voice_f0, strength=voice_strength, **self.target_config.auditory.to_dict())
        self.voice_f0, self.voice_strength = voice_f0, voice_strength
        self.track_config = TrackConfig() if track is None else track
        if not isinstance(self.track_config, TrackConfig):
            raise ParameterError(f"track must be a TrackConfig, got {type(self.track_config).__name__}")
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
        """Reconstruct the speech of a video file (any format/size/fps OpenCV reads, any length).

        A video of at most ``chunk`` frames is cropped as one clip with the run's cropper (as in
        training); a longer one is decoded, tracked, predicted and inverted as a stream (see the module
        docstring), with every stage's output collected here: for hours of video use :meth:`stream`,
        which writes the wav as it goes and keeps nothing. ``key``: see :meth:`from_crops` (default for a
        streamed video: a digest of its first ``chunk + 1`` frames). For a streamed video ``errors`` is the
        mean of the aud2wav chunks' error curves and ``restarts`` lists every chunk's restarts.

        Raises
        ------
        DataError
            Unreadable video, no face found, or fewer frames than one window.
        """
        kept: dict = {"audio": [], "codes": [], "target": [], "spectrogram": [], "crops": [], "errors": []}
        out = self._run(path, speaker=speaker, key=key, sink=kept["audio"].append, keep=kept)
        if isinstance(out, Reconstruction):
            return out
        cat = {k: np.concatenate(v) for k, v in kept.items() if k not in ("errors", "audio")}
        errors = np.mean(kept["errors"], axis=0) if kept["errors"] else np.zeros((self.n_iter, 2))
        return Reconstruction(audio=peak_normalize(np.concatenate(kept["audio"])), sr=self.sr, target=cat["target"],
                              spectrogram=cat["spectrogram"], codes=cat["codes"], crops=cat["crops"], errors=errors,
                              timings=out["timings"], seed=self.seed, key=out["key"], restarts=tuple(out["restart_list"]),
                              check=out["check"])

    def stream(self, path, output, *, speaker: str | None = None, key: str | None = None,
               progress: bool = False) -> StreamedReconstruction:
        """Reconstruct a video of any length into a wav file in bounded memory.

        Frames are decoded, tracked, cropped, predicted and inverted chunk by chunk and the audio is
        written as it comes (peak-normalised in a second pass over a scratch file beside ``output``).
        A video of at most ``chunk`` frames gives exactly :meth:`from_video`'s audio.

        Parameters
        ----------
        path : str or Path
            The video.
        output : str or Path
            The wav to write (atomically).
        speaker, key
            As :meth:`from_video`.
        progress : bool
            Show a progress bar over the video frames.

        Returns
        -------
        StreamedReconstruction
        """
        output = Path(output)
        with WavStreamWriter(output, sr=self.sr) as writer:
            out = self._run(path, speaker=speaker, key=key, sink=writer.write, progress=progress)
            if isinstance(out, Reconstruction):
                t0 = time.perf_counter()
                writer.write(out.audio)
                n = out.crops.shape[0]
                return_value = StreamedReconstruction(
                    source=str(path), output=output, sr=self.sr, n_frames=n, duration=len(out.audio) / self.sr,
                    detection_rate=1.0, timings={**out.timings}, seed=self.seed, key=out.key,
                    restarts=len(out.restarts), check=out.check, streamed=False)
            else:
                t0 = time.perf_counter()
                return_value = StreamedReconstruction(
                    source=str(path), output=output, sr=self.sr, n_frames=out["n_frames"],
                    duration=writer.n_samples / self.sr, detection_rate=out["detection_rate"], timings=out["timings"],
                    seed=self.seed, key=out["key"], restarts=len(out["restart_list"]), check=out["check"])
        return_value.timings["write"] = time.perf_counter() - t0
        return return_value

    def read(self, video, *, open_vocabulary: bool = False, recognizer=None, speaker: str | None = None,
             key: str | None = None) -> Reading:
        """Lip-read a video: reconstruct its speech, then recognise the words in it (pocketsphinx).

        Parameters
        ----------
        video : str or Path
        open_vocabulary : bool
            False (default): the GRID sentence grammar (one sentence for a clip of up to ``chunk``
            frames, one or more for a longer video); True: the recogniser's general English model.
        recognizer : optional
            A ready :class:`~lip2audspec.recognition.GridRecognizer` /
            :class:`~lip2audspec.recognition.EnglishRecognizer` to reuse across videos (overrides
            ``open_vocabulary``).
        speaker, key
            As :meth:`from_video`.

        Returns
        -------
        Reading
            ``words``, ``confidences`` (lattice posteriors), ``times``, ``text``, the ``reconstruction``.

        Examples
        --------
        >>> Reconstructor("runs/lip").read("clip.mpg").text                  # doctest: +SKIP
        'bin blue at f two now'
        """
        from .recognition import EnglishRecognizer, GridRecognizer

        rec = self.from_video(video, speaker=speaker, key=key)
        if recognizer is None:
            recognizer = (EnglishRecognizer() if open_vocabulary
                          else GridRecognizer(repeat=rec.crops is not None and rec.crops.shape[0] > self.chunk))
        grammar = "open" if type(recognizer).__name__ == "EnglishRecognizer" else "grid"
        words = recognizer.recognize_words(rec.audio, sr=rec.sr)
        return Reading(words=tuple(w.word for w in words), confidences=tuple(w.confidence for w in words),
                       times=tuple((w.start_s, w.end_s) for w in words), grammar=grammar, reconstruction=rec)

    def _chunk_predictor(self):
        """The per-chunk predictor ``fn(crops (T, S, S)) -> target (k T, D)`` of long videos (a whole-clip
        family runs on each chunk as on a clip: :func:`~lip2audspec.inference.predict_clip`)."""
        if is_sequence_model(self.lipnet):
            return lambda crops: predict_clip(self.lipnet, crops)
        return window_predictor(self.lipnet, window=self.window, hop=self.hop,
                                frames_per_video_frame=self.target_config.frames_per_video_frame)

    def _check_mask(self, speaker):
        if self.crop_config.method == "mask" and not (self.crop_config.mask_boxes or {}).get(speaker or ""):
            raise ParameterError("the run used the 'mask' cropper; pass a crop config with a box for this video "
                                 "or use crop=CropConfig(method='landmarks', size=...)")

    def _run(self, path, *, speaker, key, sink, keep: dict | None = None, progress: bool = False):
        """Decode -> crop -> predict -> invert, handing audio pieces to ``sink``.

        Returns the :class:`Reconstruction` of a video of at most ``chunk`` frames (``sink`` not called),
        else a dict (timings, key, check, n_frames, detection_rate, restart_list); ``keep`` collects each
        stage's output when given.
        """
        import itertools

        t0 = time.perf_counter()
        stream = FrameStream(path, gray=True, fps=self.fps)
        frames = iter(stream)
        head = list(itertools.islice(frames, self.chunk + 1))
        t_head = time.perf_counter() - t0
        if len(head) < self.window:
            raise DataError(f"video {path} is too short: {len(head)} frames at {self.fps:g} fps, "
                            f"at least {self.window} needed")
        self._check_mask(speaker)
        if len(head) <= self.chunk:  # one clip: the run's cropper on the whole clip, as in training
            t0 = time.perf_counter()
            crops = self.cropper.crop(np.stack(head), speaker=speaker, source=str(path)).crops
            t_crop = time.perf_counter() - t0
            rec = self.from_crops(crops, key=key, source=str(path))
            rec.timings = {"read": t_head, "crop": t_crop, **rec.timings}
            return rec
        if key is None:  # a digest of the first frames: the same video gives the same audio
            digest = hashlib.sha256(repr((len(head),) + head[0].shape).encode())
            for f in head:
                digest.update(np.ascontiguousarray(f).tobytes())
            key = "video:" + digest.hexdigest()[:16]
        elif not isinstance(key, str) or not key:
            raise ParameterError(f"key must be a non-empty string, got {key!r}")
        return self._run_stream(itertools.chain(head, frames), path, speaker=speaker, key=key, sink=sink, keep=keep,
                                progress=progress, expected=stream.expected_frames, t_head=t_head)

    def _run_stream(self, frames, path, *, speaker, key, sink, keep, progress, expected, t_head):
        k = self.target_config.frames_per_video_frame
        source = str(path)
        read = _Timed(frames)
        if progress:
            from tqdm.auto import tqdm

            read = _Timed(tqdm(read, total=expected or None, desc="reconstruct", unit="frame"))
        if self.crop_config.method == "mask":
            mask = MaskCropper(self.crop_config)

            def crop_blocks():
                block = []
                for f in read:
                    block.append(f)
                    if len(block) == self.chunk:
                        yield mask.crop(np.stack(block), speaker=speaker, source=source)
                        block = []
                if block:
                    yield mask.crop(np.stack(block), speaker=speaker, source=source)
            cropped = _Timed(crop_blocks())
        else:
            cropped = _Timed(MouthTracker(self.crop_config, self.track_config).track(read, source=source))
        state = {"n": 0, "detected": 0, "first": [], "check": None}

        def crops_out():
            for mc in cropped:
                state["n"] += mc.n_frames
                state["detected"] += int(mc.detected.sum())
                if keep is not None:
                    keep["crops"].append(mc.crops)
                if state["check"] is None:
                    state["first"].append(mc.crops)
                    if sum(len(c) for c in state["first"]) >= self.chunk:
                        first = np.concatenate(state["first"])[: self.chunk]
                        state["check"] = self.check_crops(first, source=source) or False
                        state["first"] = []
                yield mc.crops

        codes = _Timed(predict_stream(crops_out(), self._chunk_predictor(), chunk=self.chunk, overlap=self.overlap,
                                      frames_per_video_frame=k))
        d = self.target_config.drop_first
        dec_time = [0.0]

        def spectrogram_blocks():
            tail = None  # the last drop_first frames, delayed into the next block (spectrogram_from_target)
            for c in codes:
                t0 = time.perf_counter()
                target = decode(self.autoencoder, c) if self.autoencoder is not None else c
                spec = np.maximum(decompress(target, power=self.target_config.power), 0.0)
                if d:
                    spec = np.concatenate([np.repeat(spec[:1], d, axis=0) if tail is None else tail, spec])
                    spec, tail = spec[:-d], spec[-d:]
                spec = self._voiced(spec)
                if keep is not None:
                    keep["codes"].append(c)
                    keep["target"].append(target)
                    keep["spectrogram"].append(spec)
                dec_time[0] += time.perf_counter() - t0
                yield spec

        restarts: list = []

        def on_chunk(res):
            restarts.extend(res.restarts)
            if keep is not None:
                keep["errors"].append(res.errors)

        p = self.target_config.auditory
        audio = _Timed(aud2wav_stream(spectrogram_blocks(), chunk=self.audio_chunk, overlap=self.audio_overlap,
                                      n_iter=self.n_iter, rng=derived_rng(self.seed, "recon", key), on_chunk=on_chunk,
                                      **p.to_dict()))
        t_sink = 0.0
        for piece in audio:
            t0 = time.perf_counter()
            sink(piece)
            t_sink += time.perf_counter() - t0
        if state["check"] is None:  # fewer than `chunk` frames can only happen for a one-clip video
            state["check"] = False
        timings = {"read": t_head + read.seconds, "crop": cropped.seconds - read.seconds,
                   "lipnet": codes.seconds - cropped.seconds, "decode": dec_time[0],
                   "aud2wav": audio.seconds - codes.seconds - dec_time[0]}
        if keep is None:
            timings["write"] = t_sink
        return {"timings": timings, "key": key, "check": state["check"] or None, "n_frames": state["n"],
                "detection_rate": state["detected"] / max(state["n"], 1), "restart_list": restarts}

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
        spec = self._voiced(np.maximum(spectrogram_from_target(target, config=self.target_config), 0.0))
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

    def _voiced(self, spec):
        """``spec`` with the ``voice_f0`` harmonics imposed (unchanged without ``voice_f0``)."""
        if self.voice_f0 is None or not len(spec):
            return spec
        return impose_harmonics(spec, self.voice_f0, strength=self.voice_strength, **self.target_config.auditory.to_dict())

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
