"""``lip2audspec sync VIDEO [--audio WAV] [-m RUN] [--json] [--plot PNG]``: AV offset, LSE-D and LSE-C of a video."""

from __future__ import annotations

import json


def add_arguments(parser) -> None:
    parser.add_argument("video", help="talking-face video (any rate; resampled to 25 fps)")
    parser.add_argument("--audio", help="speech to score against the video (wav or any media file; default: the video's own audio track)")
    parser.add_argument("-m", "--model", default=None, metavar="RUN",
                        help="lip-sync expert: a train-sync run folder or a bundled expert's name (default: sync-s1)")
    parser.add_argument("--vshift", type=int, default=15, help="shifts examined on each side, in video frames (default 15)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (offset_frames, lse_d, lse_c, ...)")
    parser.add_argument("--plot", metavar="PNG", help="write the mean distance per offset to this PNG")


def run(args) -> int:
    from ..sync import NOT_COMPARABLE, SyncExpert, sync_video

    expert = SyncExpert.load(args.model)
    score = sync_video(args.video, audio=args.audio, expert=expert, vshift=args.vshift)
    if args.plot:
        from ..plots import plot_sync_distances

        plot_sync_distances(score, args.plot, title=f"{args.video}")
    if args.json:
        doc = {"video": str(args.video), "audio": str(args.audio) if args.audio else None, "expert": expert.source,
               **score.to_dict(), "offset_convention": "positive = audio late", "note": NOT_COMPARABLE}
        print(json.dumps(doc))
        return 0
    late = "audio late" if score.offset_frames > 0 else "audio early" if score.offset_frames < 0 else "in sync"
    print(f"{args.video}: offset {score.offset_frames:+d} frames ({late}; positive = audio late), "
          f"LSE-D {score.lse_d:.3f}, LSE-C {score.lse_c:.3f} ({score.n_windows} windows, expert {expert.source})")
    print(f"note: {NOT_COMPARABLE}")
    if args.plot:
        print(f"plot: {args.plot}")
    return 0
