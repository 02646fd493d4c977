"""``lip2audspec reconstruct VIDEO -m MODEL -o OUT.wav`` (or ``--batch DIR``): speech from silent video.

``MODEL`` is a lip network run folder or the name of a bundled model (``lip2audspec models``). A clip that
does not look like the model's training data is still reconstructed, with a printed warning. Videos of any
length are reconstructed as a stream in bounded memory (decode, track the mouth, predict and invert in
overlapping chunks, write as it goes); ``--plot`` keeps the whole spectrogram in memory instead.
"""

from __future__ import annotations

VIDEO_SUFFIXES = (".mp4", ".mpg", ".mpeg", ".avi", ".mov", ".mkv", ".m4v", ".webm")


def add_arguments(parser) -> None:
    parser.add_argument("video", nargs="?", help="video file (any format OpenCV reads; any fps and size)")
    parser.add_argument("-m", "--model", required=True, metavar="MODEL",
                        help="lip network run folder (train_main) or a bundled model's name (lip2audspec models)")
    parser.add_argument("-o", "--output", required=True, help="output wav (or folder with --batch)")
    parser.add_argument("--batch", metavar="DIR", help="reconstruct every video in DIR into the --output folder")
    parser.add_argument("--autoencoder", metavar="AE_RUN", help="autoencoder run (default: the one the lip run used)")
    parser.add_argument("--iterations", type=int, default=20, help="aud2wav iterations (default 20)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of aud2wav's random restarts, derived per clip (default 0; printed per clip)")
    parser.add_argument("--cropper", choices=["mask", "haar", "landmarks"], help="override the run's mouth cropper")
    parser.add_argument("--detect-every", type=int, metavar="K",
                        help="landmark cropper: face detector every K frames, tracked by the landmarks in between "
                             "(default: the run's)")
    parser.add_argument("--landmark-step", type=int, metavar="K",
                        help="landmark cropper: landmarks on every K-th frame, the mouth box interpolated in between "
                             "(default: the run's; --detect-every 5 --landmark-step 3 crops ~3x faster)")
    parser.add_argument("--plot", help="also save the predicted spectrogram (png); with --batch: a folder")
    parser.add_argument("--chunk", type=int, help="video frames per chunk on long videos (default: the training clip length)")
    parser.add_argument("--overlap", type=int, default=24, help="video frames shared by consecutive chunks (default 24)")
    parser.add_argument("--hop", type=int, default=1,
                        help="frames between the window network's windows on long videos (default 1; 5: 5x faster)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--voice-f0", type=float, metavar="HZ",
                        help="impose a steady voice's harmonics at this pitch (the speaker's, e.g. 107 for GRID s1) "
                             "on the predicted spectrogram before aud2wav (default: none, as published)")


def run(args) -> int:
    from pathlib import Path

    from ..auditory import warm_up
    from ..errors import DataError, ParameterError

    if bool(args.video) == bool(args.batch):
        raise ParameterError("give either one VIDEO or --batch DIR")
    warm_up()  # compile the aud2wav kernels (first run) while TensorFlow loads below
    from ..pretrained import reconstructor_for

    rec = reconstructor_for(args.model, autoencoder_run=args.autoencoder, n_iter=args.iterations,
                            crop_method=args.cropper, detect_every=args.detect_every,
                            landmark_step=args.landmark_step, seed=args.seed, chunk=args.chunk,
                            overlap=args.overlap, hop=args.hop, voice_f0=args.voice_f0)
    if args.video:
        _one(rec, Path(args.video), Path(args.output), Path(args.plot) if args.plot else None, progress=not args.quiet)
        return 0
    src = Path(args.batch)
    if not src.is_dir():
        raise FileNotFoundError(f"no such folder: {src}")
    videos = sorted(p for p in src.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise DataError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) under {src}")
    out = Path(args.output)
    failed = []
    from tqdm.auto import tqdm

    from ..batch import reconstruct_batch

    bar = tqdm(total=len(videos), desc="reconstruct", unit="clip", disable=args.quiet)

    def done(item):  # decoding, network and aud2wav run pipelined (lip2audspec.batch)
        bar.update(1)
        if item.error is not None:
            failed.append((item.video, item.error))
            return
        if item.result.check is not None and not item.result.check.ok:
            print(f"warning: {item.video}: {item.result.check.message()}")
        if args.plot:
            _plot(rec, item.result, Path(args.plot) / item.video.relative_to(src).with_suffix(".png"), item.video)

    reconstruct_batch(rec, videos, [out / v.relative_to(src).with_suffix(".wav") for v in videos], on_done=done,
                      keep_results=False)
    bar.close()
    print(f"{len(videos) - len(failed)} of {len(videos)} videos reconstructed into {out}/")
    for v, why in failed:
        print(f"  skipped {v}: {why}")
    return 0 if not failed else 1


def _one(rec, video, out_wav, plot, *, quiet: bool = False, progress: bool = False) -> None:
    if plot:
        res = rec.from_video(video)
        rec.write(res, out_wav)
        _plot(rec, res, plot, video)
        seconds, restarts = len(res.audio) / res.sr, len(res.restarts)
    else:
        res = rec.stream(video, out_wav, progress=progress)
        seconds, restarts = res.duration, res.restarts
    if res.check is not None and not res.check.ok:
        print(f"warning: {video}: {res.check.message()}")
    if not quiet:
        total = sum(res.timings.values())
        stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in res.timings.items())
        print(f"{out_wav}: {seconds:.2f} s of speech in {total:.2f} s ({stages}); seed {res.seed}, "
              f"{restarts} aud2wav restarts")


def _plot(rec, res, plot, video) -> None:
    from ..plots import plot_auditory_spectrogram, save_figure

    ax = plot_auditory_spectrogram(res.spectrogram, frame_ms=rec.target_config.auditory.frame_ms,
                                   title=f"reconstructed from {video.name}")
    save_figure(ax.figure, plot)
