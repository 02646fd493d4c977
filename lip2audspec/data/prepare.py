"""GRID preparation pipeline: validity, mouth crops, auditory targets, HDF5 datasets.

One resumable pipeline from a GRID-layout folder (a real download or the synthetic corpus) to
training-ready datasets (:mod:`lip2audspec.data.dataset`):

1. **clips**: every (speaker, utterance) of the chosen speakers that has a video; the audio source
   (``PrepareConfig.audio_source``) is resolved once for the run: ``auto`` means the separate wav files
   when every prepared speaker has a wav folder, else the audio track of each video file;
2. **per clip** (in ``workers`` processes, or on a Dask cluster: ``scheduler``): validity (video decodes to 75 frames at 25 fps, or up to
   ``max_pad_frames`` fewer, then padded by repeating the last frame; no frozen runs; audio exists with
   the right length; the alignment, if there is one, parses), grayscale frames, mouth crops (``mask`` /
   ``haar`` / ``landmarks``), auditory target. A clip without an ``.align`` file is kept (its words come
   from its GRID id, :func:`lip2audspec.corpora.grid.sentence_from_id`); one whose alignment does not
   parse is excluded. Each result is written atomically to
   ``OUT/work/<speaker>/<id>.npz``, or the reason for excluding the clip to
   ``OUT/work/<speaker>/<id>.excluded.json``; existing results are skipped, so a killed run restarts
   where it stopped and never redoes or corrupts finished work;
3. **assemble**: splits (seeded fractions, or fixed id lists: ``PrepareConfig.splits``, e.g. from a
   split file, :func:`lip2audspec.data.dataset.read_split_file`), ``dataset.h5`` (atomic), ``manifest.json``, ``exclusions.json``,
   ``report.md`` and a crop preview per speaker.

The per-clip cache is tied to the configuration in ``OUT/work/config.json``: rerunning with different
settings into the same folder is refused unless ``overwrite=True``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import multiprocessing
import platform
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..config import Config, check_choice, check_int
from ..corpora.grid import N_FRAMES, VIDEO_FPS, GridLayout, read_align, speaker_name
from ..errors import DataError, ParameterError
from ..fileio import atomic_path, write_json_atomic, write_text_atomic
from .crop import CropConfig, make_cropper, save_crop_preview
from .audio import NO_AUDIO_HINT, probe_container_audio
from .dataset import AUDIO_SOURCES, DatasetSpec, check_split_lists, fixed_splits, make_splits, write_dataset
from .inputs import WindowConfig, window_starts
from .targets import TargetConfig, auditory_target, clip_audio
from .video import frozen_frames, read_video

__all__ = ["PrepareConfig", "ClipExcluded", "process_clip", "prepare_grid", "resolve_audio_source"]

log = logging.getLogger(__name__)


class ClipExcluded(Exception):
    """A clip fails a validity check; ``stage`` and ``reason`` say which and why."""

    def __init__(self, stage: str, reason: str):
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason


@dataclass(frozen=True)
class PrepareConfig(Config):
    """Everything that determines a prepared dataset (saved in its manifest and ``config.json``).

    Parameters
    ----------
    crop : CropConfig
        Mouth cropper and crop size (paper: 128 x 128).
    target : TargetConfig
        Auditory parameters and post-processing (paper: [10 10 -2 0], drop 2 frames, power 0.3).
    window : WindowConfig
        Window length and hop in video frames (paper: 5 / 5).
    n_frames : int
        Video frames a valid clip has (GRID: 75).
    fps : float
        Frame rate a valid clip has (GRID: 25).
    max_frozen_run : int
        Longest run of identical consecutive frames allowed (longer runs mark a damaged clip). Real GRID
        s1 (43 clips): 42 have no frozen frame, one has a single one (mean difference 0.045 grey levels).
    max_pad_frames : int
        A video that decodes to at most this many frames fewer than ``n_frames`` is padded by repeating
        its last frame (0: no padding). Default 2: 5 of GRID s1's 1000 clips decode to 74 frames (the
        audio still lasts ~3 s); shorter videos are damaged and excluded.
    fractions : tuple
        Seen-speaker train/val/test fractions per speaker (unused with ``splits``).
    unseen : tuple of str
        Held-out speakers (their clips form ``unseen/test``).
    seed : int
        Split seed (unused with ``splits``).
    audio_source : {"auto", "wav", "video"}
        Where the speech comes from: ``wav`` (separate wav files, ``audio_25k/sN/*.wav`` ...), ``video``
        (each video file's own audio track, as in GRID's ``.mpg``), ``auto`` (``wav`` when every prepared
        speaker has a wav folder, else ``video``). :func:`prepare_grid` resolves ``auto`` before any
        clip is processed and records the resolved value (manifest, ``config.json``, dataset spec).
    splits : dict, optional
        Fixed splits instead of the seeded ``fractions``: ``seen/train`` / ``seen/val`` / ``seen/test``
        -> utterance ids (``"bbaf2n"`` or ``"s1/bbaf2n"``), e.g. from
        :func:`lip2audspec.data.dataset.read_split_file`. Clips in no list are left out of the splits.
    """

    crop: CropConfig = field(default_factory=CropConfig)
    target: TargetConfig = field(default_factory=TargetConfig)
    window: WindowConfig = field(default_factory=WindowConfig)
    n_frames: int = N_FRAMES
    fps: float = float(VIDEO_FPS)
    max_frozen_run: int = 2
    fractions: tuple = (0.8, 0.1, 0.1)
    unseen: tuple = ()
    seed: int = 0
    audio_source: str = "auto"
    max_pad_frames: int = 2
    splits: dict | None = None

    def __post_init__(self):
        for name, cls in (("crop", CropConfig), ("target", TargetConfig), ("window", WindowConfig)):
            v = getattr(self, name)
            if isinstance(v, dict):
                object.__setattr__(self, name, cls.from_dict(v))
            elif not isinstance(v, cls):
                raise ParameterError(f"{name} must be a {cls.__name__} or dict, got {type(v).__name__}")
        if isinstance(self.n_frames, bool) or not isinstance(self.n_frames, int) or self.n_frames < self.window.window:
            raise ParameterError(f"n_frames must be an integer >= the window ({self.window.window}), got {self.n_frames!r}")
        if abs(self.fps - self.target.fps) > 1e-9:
            raise ParameterError(f"fps ({self.fps}) and target.fps ({self.target.fps}) differ")
        if isinstance(self.max_frozen_run, bool) or not isinstance(self.max_frozen_run, int) or self.max_frozen_run < 1:
            raise ParameterError(f"max_frozen_run must be an integer >= 1, got {self.max_frozen_run!r}")
        object.__setattr__(self, "fractions", tuple(float(f) for f in self.fractions))
        object.__setattr__(self, "unseen", tuple(speaker_name(s) for s in self.unseen))
        if len(self.fractions) != 3 or min(self.fractions) < 0 or abs(sum(self.fractions) - 1) > 1e-6:
            raise ParameterError(f"fractions must be 3 non-negative numbers summing to 1, got {self.fractions}")
        check_choice(self, "audio_source", ("auto",) + AUDIO_SOURCES)
        check_int(self, "max_pad_frames", lo=0, hi=self.n_frames - 1, what=" (video frames)")
        if self.splits is not None:
            object.__setattr__(self, "splits", check_split_lists(self.splits, source="PrepareConfig.splits"))



def _longest_run(indices: np.ndarray) -> int:
    """Longest run of consecutive integers in sorted ``indices`` (frozen frame indices)."""
    if len(indices) == 0:
        return 0
    breaks = np.flatnonzero(np.diff(indices) != 1)
    bounds = np.r_[-1, breaks, len(indices) - 1]
    return int(np.max(np.diff(bounds)))


def _pad_frames(frames: np.ndarray, n: int) -> np.ndarray:
    """``frames`` (T, ...) extended to ``n`` frames by repeating the last one."""
    return np.concatenate([frames, np.repeat(frames[-1:], n - frames.shape[0], axis=0)])


def process_clip(paths, config: PrepareConfig, cropper, *, speaker: str, utt_id: str) -> dict:
    """Validate and prepare one clip.

    Parameters
    ----------
    paths : ClipPaths
        From :meth:`GridLayout.clip_paths`.
    config : PrepareConfig
        ``audio_source`` ``"auto"`` is resolved for this clip alone (its wav if it has one, else its
        video); :func:`prepare_grid` resolves it once for the whole run instead.
    cropper
        From :func:`lip2audspec.data.crop.make_cropper` (reused across clips).
    speaker, utt_id : str

    Returns
    -------
    dict
        ``crops`` (T, S, S) uint8, ``boxes`` (T, 4), ``detected`` (T,), ``spec`` (T*k, 128) float32,
        ``padded`` (video frames added by repeating the last one, int), ``align`` (whether the clip has
        an alignment file, bool), ``timings`` (wall seconds per stage: ``decode``, ``validate``, ``crop``,
        ``target``; and ``cpu``, the process's CPU seconds for the whole clip).

    Raises
    ------
    ClipExcluded
        The clip fails a validity check (the reason says which).
    """
    t = {}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    n = config.n_frames
    if paths.video is None:
        raise ClipExcluded("video", "video file missing")
    # the video is decoded once: these frames are counted, checked and cropped (at most n + 1 are decoded, so
    # a stray long video costs neither time nor memory)
    try:
        video = read_video(paths.video, gray=True, max_frames=n + 1)
    except DataError as exc:
        raise ClipExcluded("video", f"unreadable video: {exc}") from None
    frames = video.frames
    if not n - config.max_pad_frames <= frames.shape[0] <= n:
        short = f" or up to {config.max_pad_frames} fewer, padded" if config.max_pad_frames else ""
        count = f"more than {n}" if frames.shape[0] > n else str(frames.shape[0])
        raise ClipExcluded("video", f"video decodes to {count} frames (expected {n}{short})")
    if abs(video.source_fps - config.fps) > 0.01:
        raise ClipExcluded("video", f"video is {video.source_fps:g} fps (expected {config.fps:g})")
    t["decode"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    source = config.audio_source
    if source == "auto":
        source = "wav" if paths.audio is not None else "video"
    try:
        audio = clip_audio(paths, source=source, n_video_frames=n, config=config.target)
    except (DataError, FileNotFoundError) as exc:
        raise ClipExcluded("audio", str(exc)) from None
    if paths.align is not None:  # optional: GRID word scoring takes the words from the id
        try:
            words = read_align(paths.align)
        except (DataError, FileNotFoundError, ParameterError) as exc:
            raise ClipExcluded("align", f"alignment does not parse: {exc}") from None
        if not words:
            raise ClipExcluded("align", "alignment has no entries")
    run = _longest_run(np.asarray(frozen_frames(frames)))  # before padding: padded frames are not frozen
    if run > config.max_frozen_run:
        raise ClipExcluded("video", f"{run} consecutive frozen frames (at most {config.max_frozen_run} allowed)")
    padded = n - frames.shape[0]
    if padded:
        log.info("%s/%s: video decodes to %d frames; padded to %d by repeating the last frame",
                 speaker, utt_id, frames.shape[0], n)
        frames = _pad_frames(frames, n)
    t["validate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    try:
        mc = cropper.crop(frames, speaker=speaker, source=str(paths.video))
    except DataError as exc:
        raise ClipExcluded("crop", str(exc)) from None
    t["crop"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    spec = auditory_target(audio, n_video_frames=n, config=config.target)
    t["target"] = time.perf_counter() - t0
    t["cpu"] = time.process_time() - cpu0
    return dict(crops=np.asarray(mc.crops, np.uint8), boxes=np.asarray(mc.boxes, np.float32),
                detected=np.asarray(mc.detected, bool), spec=spec, padded=int(padded),
                align=paths.align is not None, timings=t)


# ---------------------------------------------------------------------------------------------- workers
_WORKER = {}


def _init_worker(config_dict: dict, single_thread: bool = False):
    if single_thread:  # one process per core: keep OpenCV from oversubscribing the cores
        import cv2

        cv2.setNumThreads(1)
    config = PrepareConfig.from_dict(config_dict)
    _WORKER["config"] = config
    _WORKER["cropper"] = make_cropper(config.crop)


def _work_paths(work: Path, speaker: str, utt_id: str) -> tuple:
    d = work / speaker
    return d / f"{utt_id}.npz", d / f"{utt_id}.excluded.json"


def _run_clip(job: tuple) -> dict:
    """Worker: process one clip and persist the outcome atomically; returns a small status dict."""
    work, speaker, utt_id, paths = job
    config, cropper = _WORKER["config"], _WORKER["cropper"]
    ok_path, ex_path = _work_paths(Path(work), speaker, utt_id)
    try:
        res = process_clip(paths, config, cropper, speaker=speaker, utt_id=utt_id)
    except ClipExcluded as exc:
        rec = {"speaker": speaker, "id": utt_id, "stage": exc.stage, "reason": exc.reason}
        write_json_atomic(ex_path, rec)
        return {"status": "excluded", **rec}
    with atomic_path(ok_path, suffix=".npz") as tmp:
        np.savez(tmp, crops=res["crops"], boxes=res["boxes"], detected=res["detected"], spec=res["spec"],
                 padded=res["padded"], align=res["align"], timings=json.dumps(res["timings"]))
    return {"status": "ok", "speaker": speaker, "id": utt_id, "timings": res["timings"]}


def _versions() -> dict:
    import cv2
    import h5py
    import scipy

    return {"lip2audspec": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "h5py": h5py.__version__, "opencv": cv2.__version__}


def _check_work_config(work: Path, config: PrepareConfig, *, overwrite: bool) -> None:
    cfg_path = work / "config.json"
    want = config.to_dict()
    if cfg_path.is_file():
        have = json.loads(cfg_path.read_text())
        if have != want:
            if not overwrite:
                raise ParameterError(
                    f"{work.parent} was prepared with different settings (see {cfg_path}); "
                    "use a new output folder or overwrite=True (--overwrite) to start over"
                )
            log.warning("settings changed: discarding the per-clip cache in %s", work)
            shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for tmp in work.rglob(".*"):  # temporary files (fileio.atomic_path) left by a killed run
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
    write_json_atomic(cfg_path, want)


def prepare_grid(grid_dir, out_dir, *, speakers=None, config: PrepareConfig | None = None, workers: int = 1,
                 overwrite: bool = False, progress: bool = True, max_clips: int | None = None, sync_check=None,
                 scheduler=None) -> dict:
    """Prepare a GRID-layout folder into ``out_dir/dataset.h5`` (see the module docstring).

    Parameters
    ----------
    grid_dir : str or Path
        A GRID download or synthetic corpus (layout variants: :class:`GridLayout`).
    out_dir : str or Path
    speakers : sequence of str or int, optional
        Default: every speaker with videos.
    config : PrepareConfig, optional
    workers : int
        Processes for the per-clip stage (with ``scheduler="local"``: the local cluster's workers).
    overwrite : bool
        Discard a per-clip cache made with other settings.
    progress : bool
        Show a progress bar.
    max_clips : int, optional
        Process at most this many clips (per speaker order) in this call and stop before assembling;
        a later call resumes (used to test interruption).
    sync_check : (SyncCheckConfig, callable), optional
        AV-sync check before assembling (``prepare --sync-check``): the rules and the expert's
        ``measure(crops, spec, audio)`` function (:mod:`lip2audspec.data.sync_check`); offsets and
        confidences go to the manifest (``sync``) and the report.
    scheduler : str or distributed.Client, optional
        Run the per-clip stage on a Dask cluster instead of local processes (:mod:`lip2audspec.cluster`):
        ``"local:N"`` starts N local worker processes, ``"tcp://host:8786"`` (or a scheduler ``.json``
        file) uses a running cluster whose workers have this package installed and see ``grid_dir`` and
        ``out_dir`` at the same paths (a shared filesystem), or pass a ``distributed.Client``. The jobs,
        the per-clip cache and the assembly are the same as locally, so the dataset is the same (array
        for array) and an interrupted cluster run resumes locally or on another cluster, and vice versa.
        Needs ``pip install "lip2audspec[distributed]"``.

    Returns
    -------
    dict
        Summary: counts, exclusions, the audio source used (``audio_source``), padded clips
        (``padded``: speaker, id, frames added), clips without alignment (``no_alignment``), fixed-split
        details (``split_lists``: listed ids excluded during preparation, clips in no list), paths,
        seconds per stage.

    Raises
    ------
    ParameterError
        Unknown speakers, held-out speakers not prepared, other settings than the cache in ``out_dir``;
        a bad ``scheduler``, one that cannot be reached or has no workers, workers with another version.
    DataError
        No wav folder for ``audio_source="wav"``; a video without an audio track for ``"video"``; ids in
        ``config.splits`` that are not clips of the corpus; no valid clip; cluster workers that do not see
        the corpus or the output folder, a clip that kills its worker repeatedly.
    """
    config = config or PrepareConfig()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a positive integer, got {workers!r}")
    if isinstance(scheduler, str):
        from ..cluster import parse_scheduler

        parse_scheduler(scheduler, workers=workers)  # a bad specification fails before any work
    layout = GridLayout.discover(grid_dir)
    available = layout.speakers
    if speakers is None:
        speakers = available
    speakers = [speaker_name(s) for s in speakers]
    missing = [s for s in speakers if s not in available]
    if missing:
        raise ParameterError(f"speakers {missing} not found in {grid_dir} (found: {', '.join(available) or 'none'})")
    bad_unseen = [s for s in config.unseen if s not in speakers]
    if bad_unseen:
        raise ParameterError(f"held-out speakers {bad_unseen} are not among the prepared speakers {speakers}")
    config = config.replace(audio_source=resolve_audio_source(layout, speakers, config.audio_source))
    log.info("prepare: speech from %s", "the separate wav files" if config.audio_source == "wav"
             else "the audio track of each video file")
    if config.splits is not None:
        _check_split_ids(config.splits, layout, [s for s in speakers if s not in config.unseen])
    out = Path(out_dir)
    work = out / "work"
    out.mkdir(parents=True, exist_ok=True)
    _check_work_config(work, config, overwrite=overwrite)
    if config.crop.method == "mask":
        config = _with_mask_boxes(config, layout, speakers)

    jobs, done = [], 0
    for spk in speakers:
        for utt in layout.utterances(spk):
            ok_path, ex_path = _work_paths(work, spk, utt)
            if ok_path.is_file() or ex_path.is_file():
                done += 1
                continue
            jobs.append((str(work), spk, utt, layout.clip_paths(spk, utt)))
    if max_clips is not None:
        jobs = jobs[:max_clips]
    log.info("prepare: %d clips to process, %d already done", len(jobs), done)
    _execute(jobs, config, workers=workers, progress=progress, scheduler=scheduler)
    if max_clips is not None and next(_pending(layout, speakers, work), None) is not None:
        return {"status": "interrupted", "done": done + len(jobs)}
    return _assemble(out, work, layout, speakers, config, grid_dir, sync_check=sync_check)


def resolve_audio_source(layout, speakers, audio_source: str = "auto") -> str:
    """The one audio source of a run: ``"wav"`` or ``"video"``.

    Parameters
    ----------
    layout : GridLayout
    speakers : sequence of str
        The prepared speakers.
    audio_source : {"auto", "wav", "video"}
        ``auto``: ``wav`` when every speaker has a wav folder, else ``video``.

    Returns
    -------
    str
        ``"wav"`` or ``"video"``.

    Raises
    ------
    DataError
        ``wav`` for a speaker without a wav folder; or ``video`` (given or resolved) when a speaker's
        first video has no audio track (checked once per speaker, before any clip is processed).
    """
    if audio_source not in ("auto",) + AUDIO_SOURCES:
        raise ParameterError(f"audio_source must be 'auto', 'wav' or 'video', got {audio_source!r}")
    no_wav = [s for s in speakers if layout.folder("audio", s) is None]
    if audio_source == "auto":
        audio_source = "video" if no_wav else "wav"
        if no_wav and len(no_wav) < len(speakers):
            log.warning("speakers %s have no wav folder: the speech of every speaker comes from the video files", no_wav)
    if audio_source == "wav" and no_wav:
        raise DataError(f"no wav folder (audio_25k/sN/*.wav, ...) for speakers {no_wav} under {layout.root}; "
                        "pass --audio-source video to take the speech from the video files' own audio track")
    if audio_source == "video":
        for spk in speakers:
            utts = layout.utterances(spk)
            if not utts:
                continue
            video = layout.clip_paths(spk, utts[0]).video
            try:
                info = probe_container_audio(video)
            except DataError:
                continue  # a damaged file: that clip is excluded with its reason later
            if info is None:
                raise DataError(f"video {video} has no audio track; {NO_AUDIO_HINT}")
    return audio_source


def _check_split_ids(splits: dict, layout, speakers) -> None:
    """Raise DataError naming the split-list ids that are not in the corpus (for the seen ``speakers``)."""
    known = set()
    for spk in speakers:
        for utt in layout.utterances(spk):
            known.update((utt, f"{spk}/{utt}"))
    unknown = sorted({i for ids in splits.values() for i in ids} - known)
    if unknown:
        raise DataError(f"{len(unknown)} split id(s) are not clips of the speakers {list(speakers)} under {layout.root}: "
                        f"{unknown[:20]}{' ...' if len(unknown) > 20 else ''}")


def _pending(layout, speakers, work):
    for spk in speakers:
        for utt in layout.utterances(spk):
            ok_path, ex_path = _work_paths(work, spk, utt)
            if not (ok_path.is_file() or ex_path.is_file()):
                yield spk, utt


def _absolute_job(job: tuple) -> tuple:
    """``job`` with absolute paths (a cluster's workers do not share the client's working directory)."""
    work, speaker, utt_id, paths = job
    files = {f: Path(v).resolve() for f in ("video", "audio", "align", "mouth_params")
             if (v := getattr(paths, f, None)) is not None}
    return str(Path(work).resolve()), speaker, utt_id, dataclasses.replace(paths, **files)


def _execute(jobs, config: PrepareConfig, *, workers: int, progress: bool, scheduler=None) -> None:
    if not jobs:
        return
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="prepare", unit="clip")
    try:
        if scheduler is not None:
            _execute_on_cluster(jobs, config, scheduler=scheduler, workers=workers,
                                on_done=None if bar is None else (lambda _: bar.update(1)))
        elif workers == 1:
            _init_worker(config.to_dict())
            for job in jobs:
                _run_clip(job)
                if bar is not None:
                    bar.update(1)
        else:
            # forkserver: forking a parent that runs OpenCV/tqdm threads can deadlock the children
            ctx = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(config.to_dict(), True)) as ex:
                futures = [ex.submit(_run_clip, job) for job in jobs]
                for fut in as_completed(futures):
                    fut.result()
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()


def _execute_on_cluster(jobs, config: PrepareConfig, *, scheduler, workers: int, on_done) -> None:
    """The same ``_run_clip`` jobs on a Dask cluster (:mod:`lip2audspec.cluster`): ``scheduler`` is a
    specification (``"local:2"``, ``"tcp://host:8786"``, a scheduler file) or a ``distributed.Client``."""
    from ..cluster import dask_client, run_jobs

    jobs = [_absolute_job(j) for j in jobs]
    first_video = jobs[0][3].video
    kwargs = dict(setup=_init_worker, setup_args=(config.to_dict(), True), shared_folder=jobs[0][0],
                  input_paths=[first_video] if first_video is not None else [],
                  describe=lambda job: f"clip {job[1]}/{job[2]}", on_done=on_done)
    if not isinstance(scheduler, str):  # a Client the caller manages
        run_jobs(scheduler, _run_clip, jobs, **kwargs)
        return
    with dask_client(scheduler, workers=workers) as client:
        run_jobs(client, _run_clip, jobs, **kwargs)


def _with_mask_boxes(config: PrepareConfig, layout, speakers) -> PrepareConfig:
    """Fill in a fixed mouth box for speakers without one (see crop.estimate_mask_box)."""
    from .crop import estimate_mask_box

    boxes = dict(config.crop.mask_boxes or {})
    for spk in speakers:
        if spk not in boxes:
            videos = [layout.clip_paths(spk, u).video for u in layout.utterances(spk)[:5]]
            boxes[spk] = tuple(float(v) for v in estimate_mask_box([v for v in videos if v is not None], config=config.crop))
            log.info("mask box for %s estimated as %s", spk, boxes[spk])
    return config.replace(crop=config.crop.replace(mask_boxes=boxes))


def _assemble(out: Path, work: Path, layout, speakers, config: PrepareConfig, grid_dir, sync_check=None) -> dict:
    clips, excluded, timings, padded, no_align = [], [], {}, [], []
    for spk in speakers:
        for utt in layout.utterances(spk):
            ok_path, ex_path = _work_paths(work, spk, utt)
            if ex_path.is_file():
                excluded.append(json.loads(ex_path.read_text()))
                continue
            try:
                with np.load(ok_path) as z:
                    clip = {k: z[k] for k in ("crops", "boxes", "detected", "spec")}
                    n_pad = int(z["padded"]) if "padded" in z.files else 0
                    if n_pad:
                        padded.append({"speaker": spk, "id": utt, "frames": n_pad})
                    if "align" in z.files and not bool(z["align"]):
                        no_align.append(f"{spk}/{utt}")
                    for k, v in json.loads(str(z["timings"])).items():
                        timings.setdefault(k, []).append(v)
            except Exception as exc:  # a damaged cache file: redo that clip next time
                ok_path.unlink(missing_ok=True)
                raise DataError(f"cached result {ok_path} is unreadable ({exc}); it was removed, rerun to redo it") from exc
            clips.append({"id": utt, "speaker": spk, **clip})
    sync_doc = _sync_check(clips, excluded, work, layout, config, sync_check) if sync_check is not None else None
    if sync_check is not None:
        clips = sync_doc.pop("kept")
    if not clips:
        raise DataError(f"no valid clips among {len(excluded)} in {grid_dir}; see the reasons in {work}")
    spk_ids = ([c["speaker"] for c in clips], [c["id"] for c in clips])
    split_info = {}
    if config.splits is None:
        splits = make_splits(*spk_ids, fractions=config.fractions, unseen=config.unseen, seed=config.seed)
    else:
        splits, missing, unassigned = fixed_splits(*spk_ids, config.splits, unseen=config.unseen)
        for name, ids in missing.items():
            log.warning("%d ids of %s were excluded during preparation: %s", len(ids), name, ids)
        if unassigned:
            log.info("%d prepared clips are in no split list (left out of the splits)", len(unassigned))
        split_info = {"fixed": True, "excluded_ids": missing,
                      "unassigned": [f"{clips[n]['speaker']}/{clips[n]['id']}" for n in unassigned]}
    T, S = clips[0]["crops"].shape[:2]
    spec = DatasetSpec.from_prepared(config.to_dict(), crop_size=int(S), n_frames=int(T),
                                     spec_channels=int(clips[0]["spec"].shape[-1]), audio_source=config.audio_source)
    n_win = len(window_starts(T, config.window))
    per_speaker = {spk: {"valid": sum(c["speaker"] == spk for c in clips),
                         "excluded": sum(e["speaker"] == spk for e in excluded)} for spk in speakers}
    manifest = {
        "kind": "lip2audspec prepared GRID dataset",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "source": {"grid_dir": str(Path(grid_dir).resolve()), "layout": repr(layout)},
        "config": config.to_dict(),
        "frames_per_video_frame": config.target.frames_per_video_frame,
        "spec": spec.to_json_dict(),
        "shapes": {"crops": list(clips[0]["crops"].shape), "spec": list(clips[0]["spec"].shape)},
        "speakers": speakers,
        "audio_source": config.audio_source,
        "padded": padded,
        "no_alignment": no_align,
        "split_lists": split_info,
        "counts": {"clips": len(clips), "excluded": len(excluded), "per_speaker": per_speaker,
                   "padded": len(padded), "no_alignment": len(no_align),
                   "splits": {k: int(len(v)) for k, v in splits.items()},
                   "windows": {k: int(len(v)) * n_win for k, v in splits.items()}},
        "versions": _versions(),
        "seconds_per_clip": {k: float(np.mean(v)) for k, v in timings.items()},
    }
    if sync_doc is not None:
        manifest["sync"] = sync_doc
    h5_path = write_dataset(out / "dataset.h5", clips, splits=splits, manifest=manifest, spec=spec)
    write_json_atomic(out / "manifest.json", manifest)
    config.save_json(out / "config.json")
    write_json_atomic(out / "exclusions.json", excluded)
    previews = {}
    for spk in speakers:
        mine = [c["crops"] for c in clips if c["speaker"] == spk]
        if mine:
            previews[spk] = mine[0]
    save_crop_preview(previews, out / "crops_preview.png")
    write_text_atomic(out / "report.md", _report(manifest, excluded))
    return {"status": "done", "dataset": str(h5_path), "clips": len(clips), "excluded": len(excluded),
            "exclusions": excluded, "audio_source": config.audio_source, "padded": padded, "no_alignment": no_align,
            "split_lists": split_info, "splits": manifest["counts"]["splits"], "windows": manifest["counts"]["windows"],
            "seconds_per_clip": manifest["seconds_per_clip"]}


def _sync_check(clips, excluded, work, layout, config: PrepareConfig, sync_check) -> dict:
    """Run the AV-sync check (:func:`lip2audspec.data.sync_check.apply_sync_check`) on the assembled clips."""
    from .sync_check import apply_sync_check

    sc_config, measure = sync_check

    def audio_for(spk, utt):
        return clip_audio(layout.clip_paths(spk, utt), source=config.audio_source, n_video_frames=config.n_frames,
                          config=config.target)

    kept, records = apply_sync_check(clips, excluded, measure=measure, config=sc_config, work=work, audio_for=audio_for,
                                     frames_per_video_frame=config.target.frames_per_video_frame)
    return {"config": sc_config.to_dict(), "clips": records, "kept": kept}


def _report(manifest: dict, excluded: list) -> str:
    c = manifest["counts"]
    audio = {"wav": "separate wav files", "video": "the audio track of each video file"}[manifest["audio_source"]]
    lines = ["# Prepared GRID dataset", "", f"Source: `{manifest['source']['grid_dir']}`; speech from {audio}.", "",
             f"{c['clips']} valid clips, {c['excluded']} excluded; {c['padded']} padded to "
             f"{manifest['config']['n_frames']} frames; {c['no_alignment']} without an alignment file "
             "(words from the GRID id).", "",
             "| speaker | valid | excluded |", "|---|---|---|"]
    lines += [f"| {s} | {v['valid']} | {v['excluded']} |" for s, v in c["per_speaker"].items()]
    lines += ["", "| split | clips | windows |", "|---|---|---|"]
    lines += [f"| {k} | {v} | {c['windows'][k]} |" for k, v in c["splits"].items()]
    fixed = manifest.get("split_lists") or {}
    if fixed:
        lines += ["", "Splits from fixed id lists."]
        for name, ids in fixed["excluded_ids"].items():
            lines += [f"- {name}: {len(ids)} listed ids excluded during preparation: {', '.join(ids)}"]
        lines += [f"- {len(fixed['unassigned'])} prepared clips in no list (left out of the splits)"]
    if manifest["padded"]:
        lines += ["", "## Padded clips", "", "| speaker | id | frames added |", "|---|---|---|"]
        lines += [f"| {p['speaker']} | {p['id']} | {p['frames']} |" for p in manifest["padded"]]
    if excluded:
        lines += ["", "## Excluded clips", "", "| speaker | id | stage | reason |", "|---|---|---|---|"]
        lines += [f"| {e['speaker']} | {e['id']} | {e['stage']} | {e['reason']} |" for e in excluded]
    if manifest.get("sync"):
        from .sync_check import sync_report_lines

        lines += sync_report_lines(manifest["sync"])
    lines += ["", "![crops](crops_preview.png)", ""]
    return "\n".join(lines)
