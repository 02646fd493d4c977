"""Auditory spectrogram: a faithful, fast Python port of the NSL toolbox.

Credits: NSL Auditory-Cortical MATLAB Toolbox (Neural Systems Laboratory, University of Maryland;
T. Chi, P. Ru, S. A. Shamma): ``wav2aud``, ``aud2wav``, ``aud2wavi`` and the COCHBA filter set
(aud24.mat). Used as the speech representation of Lip2AudSpec (Akbari et al., ICASSP 2018).
"""

from .io import load_audio, read_wav, resample, sample_rate_for_shift, write_wav

__all__ = ["load_audio", "read_wav", "resample", "sample_rate_for_shift", "write_wav"]
