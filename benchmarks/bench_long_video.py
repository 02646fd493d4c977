"""Peak memory and throughput of reconstructing a long 720p video as a stream.

Builds a long 1280x720 25 fps test video at run time (never committed): real GRID s1 clips (the
fixture in ``../shared/real_grid/s1_fixture``, GRID corpus CC BY 4.0, Cooke et al. 2006) scaled 2x and
looped, the face drifting over the frame (a slow Lissajous path, up to +-200 px across and +-60 px down) so
the mouth has to be tracked; without the fixture, clips of a generated synthetic corpus. Then runs
``Reconstructor.stream`` (decode -> track -> crop -> lip network in overlapping chunks -> decode ->
aud2wav in overlapping chunks -> wav) in a fresh process and reports:

* peak RSS of that process (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and an RSS trace sampled from
  ``/proc/self/status`` every second (so a growth with length would show);
* RSS after the models are loaded (the floor TensorFlow and the models set);
* wall time, real-time factor (video seconds per wall second), frames per second, seconds per stage;
* the mouth detection rate.

Run: ``python benchmarks/bench_long_video.py --minutes 30 [--model grid-s1] [--hop 1] [--iterations 20]``
(``--video FILE``: reuse a video built before). Prints one JSON object (also written to
``--out/bench_long_video.json``); while it runs, ``--out/progress.jsonl`` gets a line every 10 s (elapsed
seconds, RSS, peak RSS, seconds of audio written), so a run cut short still shows how memory behaved.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(os.environ.get("LIP2AUDSPEC_REAL_GRID", ROOT.parent / "shared" / "real_grid")) / "s1_fixture" / "s1"
W, H, FPS, SCALE = 1280, 720, 25.0, 2.0


def face_offset(t: float) -> tuple:
    """Top-left offset (x, y) in pixels of the scaled clip at time t seconds (the known head path)."""
    return (280 + 200 * np.sin(2 * np.pi * t / 37.0), 72 + 60 * np.sin(2 * np.pi * t / 23.0 + 1.0))


def source_clips(tmp: Path) -> list:
    if FIXTURE.is_dir():
        return sorted(FIXTURE.glob("*.mpg"))[:8]
    from lip2audspec.corpora.synthetic import generate_corpus

    generate_corpus(tmp / "synth", speakers=1, utterances=4, seed=0, corrupt_fraction=0.0, workers=1, progress=False)
    return sorted((tmp / "synth").glob("s*/*.mpg"))


def frames(clips, n_frames: int):
    """The test video's frames (gray, H x W), generated one at a time."""
    import cv2

    from lip2audspec.data.video import read_video

    loops = [read_video(c, gray=True, fps=FPS).frames for c in clips]
    seq = [f for clip in loops for f in clip]
    bg = np.full((H, W), 90, np.uint8)
    for t in range(n_frames):
        src = seq[t % len(seq)]
        big = cv2.resize(src, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_LINEAR)
        x, y = (int(round(v)) for v in face_offset(t / FPS))
        out = bg.copy()
        h, w = min(big.shape[0], H - y), min(big.shape[1], W - x)
        out[y:y + h, x:x + w] = big[:h, :w]
        yield out


def make_video(path: Path, minutes: float) -> dict:
    from lip2audspec.data.video import write_video

    t0 = time.perf_counter()
    n = int(round(minutes * 60 * FPS))
    clips = source_clips(path.parent)
    write_video(path, frames(clips, n), fps=FPS)
    return {"frames": n, "seconds": n / FPS, "size": f"{W}x{H}", "file_mb": round(path.stat().st_size / 2**20, 1),
            "sources": [c.name for c in clips], "build_s": round(time.perf_counter() - t0, 1)}


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reconstruct(args) -> dict:
    """Child process: load the model, stream the video, report memory and time."""
    from lip2audspec.pretrained import reconstructor_for

    trace, stop = [], threading.Event()
    t_start = time.perf_counter()
    wav = Path(args.wav)
    progress = open(wav.parent / "progress.jsonl", "a")

    def audio_seconds() -> float:
        """Seconds of audio the stream has written so far (its float64 scratch file beside the wav)."""
        scratch = list(wav.parent.glob(f".{wav.name}.*.f32"))
        return scratch[0].stat().st_size / 8 / 16000 if scratch else 0.0

    def sample():
        k = 0
        while not stop.wait(1.0):
            trace.append((round(time.perf_counter() - t_start, 1), round(_rss_mb(), 1)))
            k += 1
            if k % 10 == 0:  # a progress line every 10 s: a run cut short still says how far memory stayed flat
                progress.write(json.dumps({"t_s": trace[-1][0], "rss_mb": trace[-1][1], "audio_s": round(audio_seconds(), 1),
                                           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}) + "\n")
                progress.flush()

    threading.Thread(target=sample, daemon=True).start()
    rec = reconstructor_for(args.model, n_iter=args.iterations, seed=0, hop=args.hop)
    rss_loaded = _rss_mb()
    t0 = time.perf_counter()
    res = rec.stream(args.video, args.wav)
    wall = time.perf_counter() - t0
    stop.set()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"peak_rss_mb": round(peak, 1), "rss_after_model_load_mb": round(rss_loaded, 1),
            "rss_trace_mb": trace[:: max(1, len(trace) // 40)], "wall_s": round(wall, 1),
            "video_s": res.n_frames / rec.fps, "realtime_factor": round(res.n_frames / rec.fps / wall, 3),
            "frames_per_s": round(res.n_frames / wall, 2), "timings_s": {k: round(v, 1) for k, v in res.timings.items()},
            "detection_rate": round(res.detection_rate, 4), "audio_s": res.duration, "restarts": res.restarts,
            "chunk": rec.chunk, "overlap": rec.overlap, "hop": rec.hop, "audio_chunk": rec.audio_chunk,
            "audio_overlap": rec.audio_overlap, "n_iter": rec.n_iter, "model": args.model,
            "crop": rec.crop_config.method, "track": rec.track_config.to_dict()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="length of the test video (default 30)")
    ap.add_argument("--model", default="grid-s1", help="lip run folder or bundled model (default grid-s1)")
    ap.add_argument("--hop", type=int, default=1, help="window hop of the lip network (default 1)")
    ap.add_argument("--iterations", type=int, default=20, help="aud2wav iterations (default 20)")
    ap.add_argument("--out", default="bench_long_video_out", help="folder for the video, the wav and the JSON")
    ap.add_argument("--keep-video", action="store_true", help="keep the generated video")
    ap.add_argument("--video", help="use this existing video instead of building one (kept)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--wav", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(reconstruct(args)))
        return 0
    if args.minutes <= 0:
        ap.error("--minutes must be positive")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.video:
        from lip2audspec.data.video import FrameStream

        video, wav = Path(args.video), out / f"{Path(args.video).stem}.wav"
        st = FrameStream(video)
        built = {"frames": st.declared_frames, "seconds": st.declared_frames / st.fps, "size": f"{st.width}x{st.height}",
                 "file_mb": round(video.stat().st_size / 2**20, 1), "given": str(video)}
        args.keep_video = True
    else:
        video, wav = out / f"long_{args.minutes:g}min_720p.mp4", out / f"long_{args.minutes:g}min.wav"
        built = make_video(video, args.minutes)
        print(f"built {video} ({built['frames']} frames, {built['file_mb']} MB) in {built['build_s']} s", file=sys.stderr)
    cmd = [sys.executable, __file__, "--child", "--video", str(video), "--wav", str(wav), "--model", args.model,
           "--hop", str(args.hop), "--iterations", str(args.iterations)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stderr[-4000:])
        return proc.returncode
    result = {"video": built, **json.loads(proc.stdout.strip().splitlines()[-1]),
              "target": {"peak_rss_mb_below": 2048, "video_minutes": 30}}
    if not args.keep_video:
        video.unlink(missing_ok=True)
    from lip2audspec.fileio import atomic_path

    with atomic_path(out / "bench_long_video.json") as tmp:
        Path(tmp).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
