"""``lip2audspec invert IN.npy -o OUT.wav --iterations N``."""

from __future__ import annotations

from ._auditory_args import add_params_arguments, params_kwargs


def add_arguments(parser) -> None:
    parser.add_argument("input", help=".npy auditory spectrogram (frames, 128), non-negative")
    parser.add_argument("-o", "--output", required=True, help="output wav (16-bit, peak-normalised)")
    parser.add_argument("--iterations", type=int, default=30, help="aud2wav iterations (default 30; the toolbox demo uses 10)")
    parser.add_argument("--init", choices=["aud2wavi", "random"], default="aud2wavi", help="starting guess (default aud2wavi)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random start / blow-up restarts")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_params_arguments(parser)


def run(args) -> int:
    import numpy as np

    from ..auditory import AuditoryParams, aud2wav, write_wav
    from ..errors import DataError

    kw = params_kwargs(args)
    params = AuditoryParams(**kw)
    try:
        spec = np.load(args.input, allow_pickle=False)
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise DataError(f"cannot read spectrogram {args.input}: {exc}") from exc
    res = aud2wav(
        spec, n_iter=args.iterations, x0=None if args.init == "aud2wavi" else "random", rng=args.seed,
        progress=not args.quiet, **kw,
    )
    write_wav(args.output, res.x_best, sr=params.sr, normalize=True)
    if len(res.errors):
        best = res.errors[:, 0].min()
        print(f"{args.output}: {len(res.x_best) / params.sr:.2f} s; relative spectrogram error {res.errors[-1, 0]:.2f}% (best {best:.2f}%) after {args.iterations} iterations")
    else:
        print(f"{args.output}: starting guess written (0 iterations)")
    return 0
