"""The configured-model base: a model family is one file of graph code plus its config.

:class:`ConfiguredModel` is a ``keras.Model`` built from one frozen :class:`~lip2audspec.config.Config`
(kept as ``model.config``). It gives every family

* construction from a config instance or its dict, and ``get_config`` / ``from_config`` that mirror
  the config (with its schema version, so ``.keras`` files written by older layouts are migrated
  through :meth:`~lip2audspec.config.Config.migrate` when they load);
* registration with Keras serialisation (package ``"lip2audspec"``; ``keras.saving.load_model``
  works once the defining module is imported);
* :meth:`ConfiguredModel.compile_for_training`: Adam at a learning rate the *training* configuration
  chooses, the family's default loss and metrics, and optional extra optimisers (GANs);
* hooks for families that are more than ``fit`` on a static graph: :meth:`~ConfiguredModel.infer`
  (e.g. an autoregressive decoding loop) and :meth:`~ConfiguredModel.compute_losses` (a custom loss
  from the whole batch, with the gradient step and the loss trackers done by the base).

Two ways to write the graph:

* **functional** (a static DAG, e.g. :class:`~lip2audspec.models.Autoencoder`): define the class- or
  static method ``build_graph(config) -> (inputs, outputs)``; the model is a Keras Functional model
  (layer names, ``get_layer``, ``summary`` as usual);
* **subclassed** (autoregressive decoders, GANs, anything whose computation is not one DAG): define
  ``build_layers(self, config)``, which creates the layers as attributes, and ``call``. The layers
  should be built when ``build_layers`` returns (sub-models made from ``keras.Input``, or
  ``layer.build(shape)``): the model then counts as built and its weights load from a ``.keras`` file
  without a sample call.

Backend: TensorFlow (the package default). ``call`` code uses ``keras.ops`` only, so a family trained by
Keras' own step (no :meth:`ConfiguredModel.compute_losses`) also trains on JAX or PyTorch (framesync did,
on a GPU: ``benchmarks/accelerator_framesync.py``); the :meth:`~ConfiguredModel.compute_losses` step uses
``tf.GradientTape``, as Keras' own TensorFlow trainer does, and refuses another backend.

Examples
--------
A functional family (registered under ``"lip2audspec>Tiny"``; the config dataclass derives from
:class:`~lip2audspec.config.Config`)::

    @dataclass(frozen=True)
    class TinyConfig(Config):
        KIND = "tiny"
        units: int = 8

    class Tiny(ConfiguredModel):
        config_class = TinyConfig
        default_name = "tiny"

        @staticmethod
        def build_graph(c):
            x = keras.Input((4,), name="x")
            return x, keras.layers.Dense(c.units, name="out")(x)

    model = Tiny(TinyConfig()).compile_for_training(learning_rate=1e-3)
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import ClassVar

import keras
import numpy as np

# Keras 3 internals (pinned by tests/test_model_base.py): the Functional class, and the backend trainer
# whose __init__ keras.Model.__init__ runs first. See ConfiguredModel._init_functional.
from keras.src.models.functional import Functional as _Functional
from keras.src.models.model import Trainer as _BackendTrainer

from ..config import Config, is_real
from ..errors import ModelError, ParameterError
from .layers import CorrelationMSELoss, PearsonCorrelation

__all__ = ["ConfiguredModel"]


def _adam(learning_rate, name: str = "adam") -> keras.optimizers.Optimizer:
    if not is_real(learning_rate) or learning_rate <= 0:
        raise ParameterError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    return keras.optimizers.Adam(learning_rate=float(learning_rate), name=name)


def _replicas() -> int:
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


_SHARING_KEYS = ("shared_objects/id_to_obj_map", "shared_objects/id_to_config_map")


@contextlib.contextmanager
def outside_object_sharing():
    """Suspend Keras' object-sharing scope while a family builds its layers from its config.

    ``keras.saving.load_model`` runs inside a scope that maps the Python ``id()`` of every object it
    serialises to that object's config, and hands back an already-built object for a repeated id. Building
    a graph serialises temporaries (``Bidirectional(LSTM(...))`` serialises its template LSTM twice), and
    CPython reuses the ids of freed temporaries, so a second ``Bidirectional`` in the same load can be
    handed the first one's backward LSTM for both directions ("Forward layer and backward layer should
    have different `go_backwards` value"), depending only on memory layout (Keras 3.15). Our families are
    rebuilt from their config alone and share no objects with the file, so the scope is not needed here.
    The scope lives in Keras' private global state; without it this is a no-op.
    """
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - a Keras without the private module: nothing to suspend
        yield
        return
    saved = {k: global_state.get_global_attribute(k) for k in _SHARING_KEYS}
    for k in _SHARING_KEYS:
        global_state.set_global_attribute(k, None)
    try:
        yield
    finally:
        for k, v in saved.items():
            global_state.set_global_attribute(k, v)


class ConfiguredModel(keras.Model):
    """Base of the configured model families (a ``keras.Model`` built from one frozen config).

    Class attributes
    ----------------
    config_class : type
        The family's :class:`~lip2audspec.config.Config` subclass.
    default_name : str
        Model name when none is given (default: the class name in lower case).
    loss_keys : tuple of str
        Keys that :meth:`compute_losses` returns (``"loss"`` first); one ``keras.metrics.Mean`` tracker
        each. Only used by families that define :meth:`compute_losses`.

    Subclass keywords
    -----------------
    ``class Foo(ConfiguredModel, package="mypkg")`` registers ``Foo`` for Keras serialisation under
    ``"mypkg>Foo"`` (default package ``"lip2audspec"``); ``register=False`` skips registration (abstract
    intermediate classes).

    Parameters
    ----------
    config : config_class or dict
        A dict goes through ``config_class.from_dict`` (its ``"schema"`` key, if any, is honoured).
    name : str, optional
        Default :attr:`default_name`.
    **kwargs
        Passed to ``keras.Model``.

    Attributes
    ----------
    config : Config
        The configuration that built the model.
    optimizers : dict of str to keras.optimizers.Optimizer
        Extra optimisers from :meth:`compile_for_training` (empty when there are none).

    Raises
    ------
    ParameterError
        ``config`` is neither a ``config_class`` nor a dict, or the dict is invalid.
    """

    config_class: ClassVar[type] = Config
    default_name: ClassVar[str] = ""
    loss_keys: ClassVar[tuple] = ("loss",)
    #: ``build_graph(config) -> (inputs, outputs)`` (class- or staticmethod) makes a functional family
    build_graph: ClassVar = None

    def __init_subclass__(cls, *, package: str = "lip2audspec", register: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.build_graph is not None and _Functional not in cls.__mro__:
            # Functional goes into this class's own bases now, so that keras.Model.__init__ never has to
            # inject it (it would rewrite ConfiguredModel's bases and break every subclassed family).
            cls.__bases__ = (*cls.__bases__, _Functional)
        if register:
            keras.saving.register_keras_serializable(package=package)(cls)

    def __init__(self, config, name: str | None = None, **kwargs):
        config = self._coerce_config(config)
        name = name or self.default_name or type(self).__name__.lower()
        kwargs.pop("trainable", None)
        if self._is_functional():
            with outside_object_sharing():
                inputs, outputs = type(self).build_graph(config)
            self._init_functional(inputs, outputs, name=name, **kwargs)
            self.config = config
        else:
            super().__init__(name=name, **kwargs)
            self.config = config
            with outside_object_sharing():
                self.build_layers(config)
            if all(layer.built for layer in self._flatten_layers(include_self=False)):
                self.built = True
        self.optimizers = {}
        if self._uses_compute_losses():
            if not self.loss_keys or self.loss_keys[0] != "loss":
                raise ModelError(f"{type(self).__name__}.loss_keys must start with 'loss', got {self.loss_keys!r}")
            self._loss_trackers = {k: keras.metrics.Mean(name=k) for k in self.loss_keys}

    # ------------------------------------------------------------------------------------- construction
    @classmethod
    def _coerce_config(cls, config, schema: int | None = None):
        if isinstance(config, cls.config_class):
            return config
        if isinstance(config, Mapping):
            return cls.config_class.from_dict(dict(config), schema=schema)
        raise ParameterError(f"{cls.__name__} needs a {cls.config_class.__name__} or a dict, got {type(config).__name__}")

    @classmethod
    def _is_functional(cls) -> bool:
        return cls.build_graph is not None

    def _init_functional(self, inputs, outputs, name, **kwargs) -> None:
        # keras.Model.__init__(inputs=..., outputs=...) does exactly this, after injecting Functional into the
        # bases of every class up to keras.Model; __init_subclass__ has already put it into ours.
        _BackendTrainer.__init__(self)
        _Functional.__init__(self, inputs, outputs, name=name, **kwargs)

    def build_layers(self, config) -> None:
        """Create the layers of a subclassed family (as attributes); functional families define
        ``build_graph`` instead."""
        raise NotImplementedError(f"{type(self).__name__} defines neither build_graph(config) nor build_layers(self, config)")

    # ------------------------------------------------------------------------------------ serialisation
    def get_config(self) -> dict:
        """``{"name", "config": config.to_dict(), "schema": config_class.SCHEMA_VERSION}``."""
        return {"name": self.name, "config": self.config.to_dict(), "schema": self.config_class.SCHEMA_VERSION}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from :meth:`get_config`; a dict without ``"schema"`` (written before schemas) is schema 1
        and is migrated by ``config_class.from_dict``."""
        d = dict(config)
        schema = d.pop("schema", 1)
        if "config" not in d:
            raise ParameterError(f"{cls.__name__}.from_config: no 'config' entry in {sorted(d)}")
        return cls(cls._coerce_config(d.pop("config"), schema=schema), **d)

    def get_compile_config(self):
        cfg = super().get_compile_config()
        if cfg and self.optimizers:
            cfg = {**cfg, "extra_optimizers": {k: keras.optimizers.serialize(o) for k, o in self.optimizers.items()}}
        return cfg

    def compile_from_config(self, config):
        config = dict(config)
        extra = config.pop("extra_optimizers", None)
        super().compile_from_config(config)
        if extra:
            self._set_optimizers({k: keras.optimizers.deserialize(c) for k, c in extra.items()})

    # ------------------------------------------------------------------------------------------ compile
    def default_loss(self):
        """Loss used by :meth:`compile_for_training`: :class:`CorrelationMSELoss` with the config's
        ``corr_weight`` / ``mse_weight`` (1 and 1 when it has none) and ``tcorr_weight`` / ``tcorr_frames``
        (0: off, when it has none). Override (``None`` for none)."""
        c = self.config
        return CorrelationMSELoss(corr_weight=getattr(c, "corr_weight", 1.0), mse_weight=getattr(c, "mse_weight", 1.0),
                                  tcorr_weight=getattr(c, "tcorr_weight", 0.0), tcorr_frames=getattr(c, "tcorr_frames", 40))

    def default_metrics(self) -> list:
        """Metrics used by :meth:`compile_for_training`: per-frame Pearson r and MSE. Override."""
        return [PearsonCorrelation(), keras.metrics.MeanSquaredError(name="mse")]

    def compile_for_training(self, *, learning_rate: float, optimizers: Mapping | None = None, **compile_kwargs):
        """Compile with Adam(``learning_rate``) and the family's default loss and metrics.

        Families that define :meth:`compute_losses` are compiled without a loss or metrics (the hook
        and its trackers replace them).

        Parameters
        ----------
        learning_rate : float
            Of the main optimiser (``model.optimizer``); chosen by the training configuration.
        optimizers : mapping of str to float or keras.optimizers.Optimizer, optional
            Extra optimisers, e.g. ``{"discriminator": 2e-4}`` (a number means Adam at that rate), kept in
            ``model.optimizers`` for a custom ``train_step``. When the model has a built sub-layer
            attribute of the same name (``model.discriminator``), the optimiser is built for its
            trainable variables at once (no variables are created inside the traced train step).
            They are saved with the compile config and restored by ``load_model(compile=True)``.
        **compile_kwargs
            Passed to ``model.compile``; override ``optimizer``, ``loss``, ``metrics`` as well.

        Returns
        -------
        ConfiguredModel
            ``self``, compiled.

        Examples
        --------
        >>> model = build_lipnet(preset("small").lipnet).compile_for_training(learning_rate=1e-3)  # doctest: +SKIP
        """
        kwargs = {"optimizer": _adam(learning_rate)}
        if not self._uses_compute_losses():
            loss, metrics = self.default_loss(), self.default_metrics()
            kwargs.update(loss=loss, metrics=metrics or None)  # no metrics: None (an empty list is never built)
        kwargs.update(compile_kwargs)
        self.compile(**kwargs)
        if self.built and not self.optimizer.built:
            # for all trainable variables, as load_model(compile=True) builds it: the saved optimiser state
            # then matches even when a custom train_step updates only some of them with model.optimizer
            self.optimizer.build(self.trainable_variables)
        self._set_optimizers(optimizers or {})
        return self

    def _set_optimizers(self, optimizers: Mapping) -> None:
        if not isinstance(optimizers, Mapping):
            raise ParameterError(f"optimizers must be a mapping of name -> learning rate or optimizer, got {optimizers!r}")
        out = {}
        for key, opt in optimizers.items():
            if not isinstance(opt, keras.optimizers.Optimizer):
                opt = _adam(opt, name=f"{key}_adam")
            target = getattr(self, key, None)
            if isinstance(target, keras.layers.Layer) and target.built and not opt.built:
                opt.build(target.trainable_variables)
            out[key] = opt
        self.optimizers = out

    # ------------------------------------------------------------------------------------------- hooks
    def infer(self, inputs, **kwargs):
        """Inference path: ``self(inputs, training=False)`` as NumPy (same structure).

        Families whose inference is not one forward pass (autoregressive decoding) override it.

        Parameters
        ----------
        inputs : array_like or structure of arrays
        **kwargs
            Passed to the call.

        Returns
        -------
        ndarray or structure of ndarrays
        """
        out = self(inputs, training=False, **kwargs)
        return keras.tree.map_structure(lambda t: np.asarray(keras.ops.convert_to_numpy(t)), out)

    def compute_losses(self, data, training: bool) -> dict:
        """Custom-loss hook: define it to train on something other than ``loss(y, model(x))``.

        When a family defines it, the base's ``train_step`` / ``test_step`` call it (under a
        ``tf.GradientTape`` in training), minimise ``"loss"`` with ``model.optimizer`` over all trainable
        variables, and report the mean of every returned key (declared in :attr:`loss_keys`). Include
        regularisation (``sum(self.losses)`` after the forward call) in ``"loss"`` if wanted.

        Parameters
        ----------
        data
            One batch as the dataset yields it (any structure).
        training : bool
            Pass it on to the forward calls (dropout, noise, BatchNorm).

        Returns
        -------
        dict of str to scalar tensor
            ``"loss"``: the total to minimise, plus any named parts to report.
        """
        raise NotImplementedError

    @classmethod
    def _uses_compute_losses(cls) -> bool:
        return cls.compute_losses is not ConfiguredModel.compute_losses

    def _checked_losses(self, data, training: bool) -> dict:
        parts = self.compute_losses(data, training=training)
        if not isinstance(parts, Mapping) or "loss" not in parts:
            raise ModelError(f"{type(self).__name__}.compute_losses must return a dict with a 'loss' key, got {parts!r}")
        unknown = sorted(set(parts) - set(self.loss_keys))
        if unknown:
            raise ModelError(f"{type(self).__name__}.compute_losses returned {unknown}, not declared in loss_keys {self.loss_keys}")
        return dict(parts)

    def _report(self, parts: dict, data) -> dict:
        first = next(t for t in keras.tree.flatten(data) if t is not None)
        n = keras.ops.shape(first)[0]
        for key, value in parts.items():
            self._loss_trackers[key].update_state(value, sample_weight=n)
        return {key: t.result() for key, t in self._loss_trackers.items()}

    @property
    def metrics(self):
        if self._uses_compute_losses() and hasattr(self, "_loss_trackers"):
            return list(self._loss_trackers.values())
        return super().metrics

    def train_step(self, *args):
        """Keras' step, or with :meth:`compute_losses`: its ``"loss"`` minimised by ``model.optimizer``.

        Keras' own step serves every backend (JAX passes ``(state, data)``); the :meth:`compute_losses`
        step is written for TensorFlow and refuses another backend with a :class:`ModelError`.
        """
        if not self._uses_compute_losses():
            return super().train_step(*args)
        data = self._tensorflow_step_data(args)
        import tensorflow as tf

        with tf.GradientTape() as tape:
            parts = self._checked_losses(data, training=True)
            loss = parts["loss"]
            replicas = _replicas()
            if replicas > 1:  # gradients are summed over replicas
                loss = loss / replicas
            loss = self.optimizer.scale_loss(loss)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return self._report(parts, data)

    def test_step(self, *args):
        """Keras' step, or with :meth:`compute_losses`: its values in inference mode."""
        if not self._uses_compute_losses():
            return super().test_step(*args)
        data = self._tensorflow_step_data(args)
        return self._report(self._checked_losses(data, training=False), data)

    def _tensorflow_step_data(self, args):
        if keras.backend.backend() != "tensorflow" or len(args) != 1:
            raise ModelError(f"{type(self).__name__} trains through compute_losses, which runs on the TensorFlow "
                             f"backend only; KERAS_BACKEND is {keras.backend.backend()!r} (set it to 'tensorflow')")
        return args[0]
