"""``lip2audspec audspec IN.wav -o OUT.npy [--plot OUT.png]``."""

from __future__ import annotations

from ._auditory_args import add_params_arguments, params_kwargs


def add_arguments(parser) -> None:
    parser.add_argument("input", help="wav file (any sample rate and channel count; resampled to 16000 * 2**shift Hz)")
    parser.add_argument("-o", "--output", required=True, help="output .npy, float64 array (frames, 128)")
    parser.add_argument("--plot", help="also save a picture of the spectrogram (png/pdf/svg)")
    add_params_arguments(parser)


def run(args) -> int:
    import numpy as np

    from ..auditory import AuditoryParams, load_audio, wav2aud
    from ..fileio import atomic_path

    kw = params_kwargs(args)
    params = AuditoryParams(**kw)
    x = load_audio(args.input, shift=params.shift)
    spec = wav2aud(x, **kw)
    with atomic_path(args.output, suffix=".npy") as tmp:
        np.save(tmp, spec)
    print(f"{args.output}: {spec.shape[0]} frames x {spec.shape[1]} channels ({len(x) / params.sr:.2f} s at {params.sr} Hz)")
    if args.plot:
        from ..plots import plot_auditory_spectrogram, save_figure

        ax = plot_auditory_spectrogram(spec, frame_ms=params.frame_ms, shift=params.shift, title=str(args.input))
        save_figure(ax.figure, args.plot)
        print(f"{args.plot}: plot written")
    return 0
