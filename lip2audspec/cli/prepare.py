"""``lip2audspec prepare GRID_DIR -o OUT --speakers s1 s2 ...``: GRID folder -> HDF5 datasets."""

from __future__ import annotations

import json


def add_arguments(parser) -> None:
    parser.add_argument("grid_dir", help="GRID download or synthetic corpus (s1/*.mpg, audio_25k/s1/*.wav, alignments/s1/*.align, ...)")
    parser.add_argument("-o", "--out", required=True, help="output folder (dataset.h5, manifest.json, report.md, ...)")
    parser.add_argument("--speakers", nargs="+", help="speakers to prepare, e.g. s1 s2 s4 s29 (default: all found)")
    parser.add_argument("--unseen", nargs="*", default=[], help="held-out speakers for the unseen-speaker test split")
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--scheduler", help="run the per-clip work on a Dask cluster: local:N (start N local worker "
                        "processes), tcp://HOST:8786 (a running scheduler whose workers see GRID_DIR and OUT at the same "
                        "paths) or a scheduler .json file; same dataset and per-clip cache as a local run "
                        '(needs pip install "lip2audspec[distributed]")')
    parser.add_argument("--cropper", choices=["mask", "haar", "landmarks"], default="landmarks",
                        help="mouth cropper: landmarks (dlib, per frame; default), haar (face box on the first frame, as the original code), mask (fixed box per speaker)")
    parser.add_argument("--detect-every", type=int, default=1, metavar="K",
                        help="landmarks: run the face detector every K frames and track the face by its landmarks in "
                             "between (default 1: every frame, as datasets prepared before)")
    parser.add_argument("--landmark-step", type=int, default=1, metavar="K",
                        help="landmarks: detector and shape predictor on every K-th frame, the mouth box interpolated "
                             "in between (default 1; --detect-every 5 --landmark-step 3 crops ~3x faster)")
    parser.add_argument("--preset", choices=["small", "paper"], default="small",
                        help="model preset the dataset is for: sets the crop size (small 48, paper 128) and the window "
                             "(default small, the training scripts' default)")
    parser.add_argument("--crop-size", type=int, default=None, help="crop side in pixels (default: the preset's)")
    parser.add_argument("--mask-boxes", help="JSON file {speaker: [x0, y0, x1, y1]} for --cropper mask (default: estimated)")
    parser.add_argument("--window", type=int, default=None, help="frames per window (default: the preset's, 5 = 200 ms)")
    parser.add_argument("--hop", type=int, default=5, help="frames between windows (default 5)")
    parser.add_argument("--fractions", nargs=3, type=float, default=[0.8, 0.1, 0.1], metavar=("TRAIN", "VAL", "TEST"))
    parser.add_argument("--seed", type=int, default=0, help="split seed")
    parser.add_argument("--split-file", help="JSON file with fixed 'train', 'val', 'test' id lists (e.g. s1_split.json) "
                                             "instead of the seeded --fractions; clips in no list are left out")
    parser.add_argument("--audio-source", choices=["auto", "wav", "video"], default="auto",
                        help="where the speech comes from: wav (separate wav files), video (each video file's own "
                             "audio track, as in GRID's .mpg), auto (default: wav when every speaker has a wav "
                             "folder, else video)")
    parser.add_argument("--drop-first", type=int, default=2, help="spectrogram frames dropped at the start (paper: 2)")
    parser.add_argument("--power", type=float, default=0.3, help="compression exponent (paper: 0.3)")
    parser.add_argument("--config", help="a config.json of an earlier run to reuse (overrides the options above)")
    parser.add_argument("--overwrite", action="store_true", help="discard a per-clip cache made with other settings")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    g = parser.add_argument_group("AV sync (lip-sync expert; offsets in video frames, positive = audio late)")
    g.add_argument("--sync-check", action="store_true", help="measure every clip's AV offset and confidence (LSE-C) "
                   "into the manifest and report")
    g.add_argument("--sync-correct", action="store_true", help="shift each clip's audio target by its detected offset "
                   "(implies --sync-check)")
    g.add_argument("--sync-model", default="sync-s1", help="lip-sync expert: bundled name or train-sync run (default sync-s1)")
    g.add_argument("--sync-max-offset", type=int, default=3, help="offsets up to this are never excluded (default 3)")
    g.add_argument("--sync-min-confidence", type=float, default=0.0,
                   help="exclude clips beyond --sync-max-offset whose LSE-C is below this (default 0: none)")


def build_config(args):
    from ..data.crop import CropConfig
    from ..data.dataset import read_split_file
    from ..data.inputs import WindowConfig
    from ..data.prepare import PrepareConfig
    from ..data.targets import TargetConfig

    from ..models.config import preset

    if args.config:
        return PrepareConfig.load_json(args.config)
    lip = preset(args.preset).lipnet
    crop = {"method": args.cropper, "size": args.crop_size or lip.crop_size, "detect_every": args.detect_every,
            "landmark_step": args.landmark_step}
    if args.mask_boxes:
        with open(args.mask_boxes) as fh:
            crop["mask_boxes"] = {k: tuple(v) for k, v in json.load(fh).items()}
    return PrepareConfig(
        crop=CropConfig.from_dict({**CropConfig().to_dict(), **crop}),
        target=TargetConfig(drop_first=args.drop_first, power=args.power),
        window=WindowConfig(window=args.window or lip.window, hop=args.hop),
        fractions=tuple(args.fractions), unseen=tuple(args.unseen), seed=args.seed,
        audio_source=args.audio_source, splits=read_split_file(args.split_file) if args.split_file else None,
    )


def run(args) -> int:
    from ..data.prepare import prepare_grid

    summary = prepare_grid(args.grid_dir, args.out, speakers=args.speakers, config=build_config(args),
                           workers=args.workers, overwrite=args.overwrite, progress=not args.quiet,
                           sync_check=_sync_check(args), scheduler=args.scheduler)
    print(f"{summary['dataset']}: {summary['clips']} clips ({summary['excluded']} excluded, {len(summary['padded'])} "
          f"padded; speech from the {summary['audio_source']} files; details in {args.out}/report.md)")
    for name, n in summary["splits"].items():
        print(f"  {name:12s} {n:5d} clips  {summary['windows'][name]:6d} windows")
    return 0


def _sync_check(args):
    """``(SyncCheckConfig, measure)`` for prepare_grid, or None without --sync-check / --sync-correct."""
    if not (getattr(args, "sync_check", False) or getattr(args, "sync_correct", False)):
        return None
    from ..data.sync_check import SyncCheckConfig
    from ..sync import SyncExpert

    expert = SyncExpert.load(args.sync_model)
    cfg = SyncCheckConfig(expert=str(args.sync_model), correct=bool(args.sync_correct), max_offset=args.sync_max_offset,
                          min_confidence=args.sync_min_confidence)
    return cfg, expert.measure_prepared
