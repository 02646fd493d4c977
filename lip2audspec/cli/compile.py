"""``lip2audspec compile``: compile the wav2aud / aud2wav kernels into numba's on-disk cache now.

Run once after installing (``make`` does): the first ``reconstruct``, ``evaluate`` or ``invert`` of every
later process then loads machine code instead of compiling it (see
:func:`lip2audspec.auditory.compile_kernels`).
"""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--quiet", action="store_true", help="print nothing")


def run(args) -> int:
    from ..auditory import compile_kernels

    res = compile_kernels()
    if not args.quiet:
        where = f" (numba cache: {res['cache']})" if res["cache"] else ""
        print(f"wav2aud / aud2wav kernels compiled or loaded in {res['seconds']:.1f} s{where}")
    return 0
