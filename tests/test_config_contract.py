"""Every configuration class of the package keeps the config base's contract."""

import dataclasses
import importlib
import inspect
import pkgutil

import pytest

import lip2audspec
from lip2audspec.config import Config
from lip2audspec.errors import ParameterError


def _all_modules():
    for info in pkgutil.walk_packages(lip2audspec.__path__, "lip2audspec."):
        if info.name.endswith("__main__"):
            continue
        yield importlib.import_module(info.name)


def _config_classes():
    found = {}
    for mod in _all_modules():
        for name, obj in vars(mod).items():
            if inspect.isclass(obj) and obj.__module__ == mod.__name__ and dataclasses.is_dataclass(obj) \
                    and (name.endswith("Config") or issubclass(obj, Config)):
                found[f"{obj.__module__}.{name}"] = obj
    return found


CLASSES = _config_classes()

# classes without defaults for every field: a valid example instance
def _speaker_spec():
    from lip2audspec.corpora.synthetic.corpus import speaker_spec

    return speaker_spec(2, seed=1)


EXAMPLES = {"SpeakerSpec": _speaker_spec}


def _example(cls):
    if cls.__name__ in EXAMPLES:
        return EXAMPLES[cls.__name__]()
    return cls()


def test_every_config_class_is_found_and_on_the_base():
    names = {k.rsplit(".", 1)[1] for k in CLASSES}
    assert {"AutoencoderConfig", "LipNetConfig", "TrainConfig", "PrepareConfig", "CropConfig", "TargetConfig",
            "WindowConfig", "CorpusConfig", "DatasetSpec", "AuditoryParams"} <= names
    not_on_base = [k for k, c in CLASSES.items() if not issubclass(c, Config)]
    assert not not_on_base, f"config classes not derived from lip2audspec.config.Config: {not_on_base}"
    mutable = [k for k, c in CLASSES.items() if not c.__dataclass_params__.frozen]
    assert not mutable, f"config classes that are not frozen: {mutable}"


@pytest.mark.parametrize("qualname", sorted(CLASSES))
def test_contract(qualname, tmp_path):
    cls = CLASSES[qualname]
    c = _example(cls)
    # round trips: dict, JSON text, file
    assert cls.from_dict(c.to_dict()) == c
    assert cls.from_json(c.to_json()) == c
    assert cls.load_json(c.save_json(tmp_path / "c.json")) == c
    doc = c.to_json_dict()
    assert doc["kind"] == cls.kind() and doc["schema"] == cls.SCHEMA_VERSION
    # unknown keys: a ParameterError naming the key and the accepted ones (never a TypeError)
    with pytest.raises(ParameterError, match="no_such_field") as err:
        cls.from_dict({**c.to_dict(), "no_such_field": 1})
    assert dataclasses.fields(cls)[0].name in str(err.value)
    with pytest.raises(ParameterError, match="no_such_field"):
        c.replace(no_such_field=1)
    # replace: a validated copy
    f = dataclasses.fields(cls)[0]
    same = c.replace(**{f.name: getattr(c, f.name)})
    assert same == c and same is not c
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(c, f.name, getattr(c, f.name))
    # another kind, or a newer schema, is refused
    with pytest.raises(ParameterError, match="kind"):
        cls.from_dict({**doc, "kind": "something-else"})
    with pytest.raises(ParameterError, match="newer"):
        cls.from_dict({**doc, "schema": cls.SCHEMA_VERSION + 1})


def test_invalid_values_are_parameter_errors():
    from lip2audspec.data.crop import CropConfig
    from lip2audspec.training import TrainConfig

    with pytest.raises(ParameterError, match="size"):
        CropConfig.from_dict({"size": -3})
    with pytest.raises(ParameterError, match="epochs"):
        TrainConfig.from_json('{"epochs": 0}')
    with pytest.raises(ParameterError, match="invalid"):
        TrainConfig.from_json("{not json")
