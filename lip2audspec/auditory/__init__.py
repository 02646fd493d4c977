"""Auditory spectrogram: a faithful, fast Python port of the NSL toolbox.

``wav2aud`` (waveform -> 128-channel auditory spectrogram), ``aud2wav`` (iterative inverse) and
``aud2wavi`` (its initial guess), the COCHBA cochlear filter bank, and audio I/O.

Credits: NSL Auditory-Cortical MATLAB Toolbox (Neural Systems Laboratory, University of Maryland;
T. Chi, P. Ru, S. A. Shamma): ``wav2aud``, ``aud2wav``, ``aud2wavi`` and the COCHBA filter set
(aud24.mat; shipped from the MIT-licensed naplib-python, see NOTICE). Used as the speech representation
of Lip2AudSpec (Akbari, Arora, Cao, Mesgarani, ICASSP 2018) at ``[10 10 -2 0]``.
"""

from .aud2wav import Aud2WavResult, aud2wav, aud2wav_many, aud2wavi, compile_kernels, unitseq, warm_up
from .filterbank import N_CHANNELS, CochlearFilter, center_frequencies, cochlear_filterbank, frequency_responses, load_cochba
from .io import load_audio, peak_normalize, read_wav, resample, sample_rate_for_shift, write_wav
from .params import SUPPORTED_SHIFTS, AuditoryParams
from .wav2aud import cochlear_response, wav2aud

__all__ = [
    "AuditoryParams",
    "Aud2WavResult",
    "CochlearFilter",
    "N_CHANNELS",
    "SUPPORTED_SHIFTS",
    "aud2wav",
    "aud2wav_many",
    "aud2wavi",
    "center_frequencies",
    "compile_kernels",
    "cochlear_filterbank",
    "cochlear_response",
    "frequency_responses",
    "load_audio",
    "load_cochba",
    "peak_normalize",
    "read_wav",
    "resample",
    "sample_rate_for_shift",
    "unitseq",
    "warm_up",
    "wav2aud",
    "write_wav",
]
