"""Shared ``--frame-ms/--tc-ms/--fac/--shift`` options of the auditory sub-commands."""

from __future__ import annotations


def add_params_arguments(parser) -> None:
    g = parser.add_argument_group("auditory parameters (NSL [frame tc fac shift]; default: Lip2AudSpec's [10 10 -2 0])")
    g.add_argument("--frame-ms", type=float, default=10.0, help="frame length in ms (default 10)")
    g.add_argument("--tc-ms", type=float, default=10.0, help="leaky-integration time constant in ms; 0 = frame mean (default 10)")
    g.add_argument("--fac", type=float, default=-2.0, help="hair-cell nonlinearity: -2 linear, -1 half-wave, 0 step, >0 sigmoid (default -2)")
    g.add_argument("--shift", type=int, default=0, help="octave shift: 0 = 16 kHz, -1 = 8 kHz, -2 = 4 kHz (default 0)")


def params_kwargs(args) -> dict:
    return dict(frame_ms=args.frame_ms, tc_ms=args.tc_ms, fac=args.fac, shift=args.shift)
