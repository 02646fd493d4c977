"""Does a model fit a prepared dataset? One check, one error, the command that fixes it.

The prepared dataset's :class:`~lip2audspec.data.dataset.DatasetSpec` is the one owner of clip shapes;
model configs are checked against it here, and nowhere else. What can be adapted on load is adapted
(mouth crops of another size are resized, the model's own window length is cut from the clips); what
cannot fails at once with a :class:`~lip2audspec.errors.ParameterError` that lists every mismatch and
how to fix it.
"""

from __future__ import annotations

import logging

from ..data.dataset import DatasetSpec
from ..data.inputs import WindowConfig
from ..errors import ParameterError

__all__ = ["check_model_fits"]

log = logging.getLogger(__name__)


def check_model_fits(spec: DatasetSpec, config, *, target: str = "bottleneck") -> dict:
    """Check a model configuration against a dataset spec; say how the data is adapted.

    Parameters
    ----------
    spec : DatasetSpec
        The prepared dataset's spec (``GridDataset(path).spec``).
    config : AutoencoderConfig or LipNetConfig
        The model (recognised by its fields: ``n_channels`` for frame models, ``crop_size`` for lip models).
    target : str
        The lip network's target (a derived target of the dataset, normally ``"bottleneck"``).

    Returns
    -------
    dict
        ``resize_to``: crop side the crops are resized to on load (None: they fit); ``window``: the
        :class:`WindowConfig` to cut (the model's window with the dataset's hop).

    Raises
    ------
    ParameterError
        Every mismatch that cannot be adapted, each with its fix.

    Examples
    --------
    >>> from lip2audspec.models import preset
    >>> check_model_fits(DatasetSpec(crop_size=128), preset("small").autoencoder)
    {'resize_to': None, 'window': WindowConfig(window=5, hop=5)}
    """
    problems, out = [], {"resize_to": None, "window": spec.window_config}
    if hasattr(config, "frames_per_video_frame") and hasattr(config, "target"):
        return _check_sequence_fits(spec, config, out)
    if hasattr(config, "n_channels") and config.n_channels != spec.spec_channels:
        problems.append(f"the dataset's spectrogram frames have {spec.spec_channels} channels but the model expects "
                        f"{config.n_channels}: use a model config with n_channels={spec.spec_channels}")
    if hasattr(config, "crop_size"):
        if config.crop_size != spec.crop_size:
            out["resize_to"] = config.crop_size
            log.warning("the dataset's crops are %dx%d, the model's %dx%d: resizing crops on load (prepare with "
                        "--preset matching the model, or --crop-size %d, to avoid it)", spec.crop_size, spec.crop_size,
                        config.crop_size, config.crop_size, config.crop_size)
        if config.channels != spec.input_channels:
            problems.append(f"the dataset gives {spec.input_channels} input channels (frame, 1st and 2nd difference) but "
                            f"the model expects {config.channels}: use channels={spec.input_channels}")
        k = spec.frames_per_video_frame
        if config.out_frames != k * config.window:
            problems.append(f"the model predicts {config.out_frames} target frames for a window of {config.window} video "
                            f"frames, but the dataset has {k} target frames per video frame: use out_frames={k * config.window}")
        if config.window > spec.n_frames:
            problems.append(f"the model's window ({config.window} frames) is longer than a clip ({spec.n_frames} frames)")
        out["window"] = WindowConfig(window=config.window, hop=spec.hop)
        try:
            dim = spec.target_dim(target)
        except Exception as exc:  # DataError: no such target
            problems.append(str(exc))
        else:
            if dim != config.out_dim:
                made_by = spec.derived.get(target, {}).get("autoencoder_run")
                problems.append(f"the dataset's {target} targets are {dim}-dimensional"
                                f"{f' (autoencoder {made_by})' if made_by else ''} but the model predicts out_dim="
                                f"{config.out_dim}: use a preset or model config with out_dim={dim}, or an autoencoder "
                                f"with bottleneck={config.out_dim} on a fresh copy of the prepared dataset")
    if problems:
        raise ParameterError("the model does not fit the dataset: " + "; ".join(problems))
    return out


def _check_sequence_fits(spec: DatasetSpec, config, out: dict) -> dict:
    """Whole-clip families: crop size (resized on load), channels, k, and the target's width."""
    problems = []
    if config.crop_size != spec.crop_size:
        out["resize_to"] = config.crop_size
        log.warning("the dataset's crops are %dx%d, the model's %dx%d: resizing crops on load", spec.crop_size,
                    spec.crop_size, config.crop_size, config.crop_size)
    if config.channels != spec.input_channels:
        problems.append(f"the dataset gives {spec.input_channels} input channels but the model expects {config.channels}: "
                        f"use channels={spec.input_channels}")
    if config.frames_per_video_frame != spec.frames_per_video_frame:
        problems.append(f"the dataset has {spec.frames_per_video_frame} target frames per video frame, the model "
                        f"{config.frames_per_video_frame}: use frames_per_video_frame={spec.frames_per_video_frame}")
    try:
        dim = spec.target_dim(config.target)
    except Exception as exc:  # DataError: no such target
        problems.append(str(exc))
    else:
        if dim != config.out_dim:
            problems.append(f"the dataset's {config.target} targets are {dim}-dimensional but the model predicts "
                            f"out_dim={config.out_dim}: use out_dim={dim}")
    if problems:
        raise ParameterError("the model does not fit the dataset: " + "; ".join(problems))
    return out
