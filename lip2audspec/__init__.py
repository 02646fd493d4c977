"""lip2audspec: speech reconstruction from silent lip video (Lip2AudSpec).

Reference implementation of

    H. Akbari, H. Arora, L. Cao, N. Mesgarani, "Lip2AudSpec: Speech
    reconstruction from silent lip movements video", ICASSP 2018.

The auditory spectrogram is a Python port of the NSL toolbox (Neural Systems
Laboratory, University of Maryland; T. Chi, P. Ru, S. Shamma) ``wav2aud`` /
``aud2wav``; see :mod:`lip2audspec.auditory`.
"""

from .errors import DataError, Lip2AudSpecError, ModelError, ParameterError

__version__ = "0.1.0"

__all__ = ["__version__", "Lip2AudSpecError", "ParameterError", "DataError", "ModelError"]
