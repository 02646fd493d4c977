"""Training: tf.data pipelines from prepared HDF5 datasets, resumable run folders, distribution.

* :func:`train_autoencoder` / :func:`train_lipnet` (``train_autoencoder`` / ``train_main`` scripts)
* :func:`train_sequence` (``train_main --arch framesync|...``): whole-clip families; :func:`init_from_run`
* :func:`train_or_resume`: a new run, or the continuation of one already in the folder
* :func:`add_bottleneck_targets`: the autoencoder's codes as the lip network's targets
* :func:`check_model_fits`: a model config against a prepared dataset's spec (one check, one error)
* :class:`TrainConfig` (optimiser settings included), :class:`RunDir` (with the schema migration of
  :func:`migrate_run_config`)
"""

from .compat import check_model_fits
from .config import TrainConfig
from .fit import add_bottleneck_targets, init_from_run, train_autoencoder, train_lipnet, train_or_resume, train_sequence
from .runs import RunDir, migrate_run_config

__all__ = ["TrainConfig", "RunDir", "migrate_run_config", "check_model_fits", "train_autoencoder", "train_lipnet",
           "train_sequence", "init_from_run", "train_or_resume", "add_bottleneck_targets"]
