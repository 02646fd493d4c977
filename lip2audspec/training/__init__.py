"""Training: tf.data pipelines from prepared HDF5 datasets, resumable run folders, distribution.

* :func:`train_autoencoder` / :func:`train_lipnet` (``train_autoencoder`` / ``train_main`` scripts)
* :func:`train_or_resume`: a new run, or the continuation of one already in the folder
* :func:`add_bottleneck_targets`: the autoencoder's codes as the lip network's targets
* :class:`TrainConfig`, :class:`RunDir`
"""

from .config import TrainConfig
from .fit import add_bottleneck_targets, train_autoencoder, train_lipnet, train_or_resume
from .runs import RunDir

__all__ = ["TrainConfig", "RunDir", "train_autoencoder", "train_lipnet", "train_or_resume", "add_bottleneck_targets"]
