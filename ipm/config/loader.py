"""Typed configs from plain data: frozen dataclasses built field by field, validated at the
boundary, with errors that name the key path (``model.optim.lr``) and what was expected.

A field's type may be a dataclass, a scalar (bool, int, float, str), a ``Literal``, a tuple or
a :class:`Family`: a tagged union whose members are the dataclasses deriving from it, told
apart by one field (``model.name``, ``model.net.kind``). Members register by being defined, so
a new model or network needs its config class and nothing else here.

A section given in part keeps the field's own default for the keys it leaves out: EDM's
``optim: {lr: 1e-3}`` keeps EDM's betas, a Score GAN's ``noise: {sigma_min: 0.2}`` its σ_max.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from pathlib import Path
from typing import ClassVar, Literal

__all__ = ["ConfigError", "Family", "apply_overrides", "build", "read_yaml", "to_dict"]


class ConfigError(ValueError):
    """A bad configuration value; ``key`` is the dotted path of the offending entry."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class Family:
    """Base of a tagged union of configs: every dataclass deriving from it is a member, and the
    value of its field ``tag`` (the field's default) names it. ``default`` is the member taken
    when the data do not give the tag."""

    tag: ClassVar[str]
    default: ClassVar[str | None] = None

    @classmethod
    def members(cls) -> dict[str, type]:
        out, stack = {}, list(cls.__subclasses__())
        while stack:
            c = stack.pop()
            stack.extend(c.__subclasses__())
            if dataclasses.is_dataclass(c):
                fields = {f.name: f for f in dataclasses.fields(c)}
                out[fields[cls.tag].default] = c
        return out

    @classmethod
    def member(cls, value, key: str) -> type:
        table = cls.members()
        if value not in table:
            raise ConfigError(f"{key}.{cls.tag}", f"expected one of {sorted(table)}, got {value!r}")
        return table[value]


def _is_family(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, Family) and not dataclasses.is_dataclass(tp)


def _on_default(cls, value, default):
    """``value`` over the default instance's fields, when the default is of class ``cls``."""
    if type(default) is cls and isinstance(value, dict):
        return {**to_dict(default), **value}
    return value


def _convert(tp, value, key: str, default=None):
    origin = typing.get_origin(tp)
    if _is_family(tp):
        if not isinstance(value, dict):
            raise ConfigError(key, f"expected a mapping, got {type(value).__name__}")
        member = tp.member(value.get(tp.tag, getattr(default, tp.tag, tp.default)), key)
        return build(member, _on_default(member, value, default), key)
    if dataclasses.is_dataclass(tp):
        return build(tp, _on_default(tp, value, default), key)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ConfigError(key, f"expected one of {list(allowed)}, got {value!r}")
        return value
    if origin is tuple:
        args = typing.get_args(tp)
        if args[-1] is Ellipsis:
            if not isinstance(value, (list, tuple)):
                raise ConfigError(key, f"expected a list, got {value!r}")
            return tuple(_convert(args[0], v, f"{key}[{i}]") for i, v in enumerate(value))
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(key, f"expected a list of {len(args)} values, got {value!r}")
        return tuple(_convert(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str):  # YAML 1.1 reads "2e-4" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                raise ConfigError(key, f"expected a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {value!r}")
        return value
    raise TypeError(f"{key}: unsupported config type {tp}")  # a bug, not user input


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def build(cls, data, prefix: str = ""):
    """An instance of the dataclass ``cls`` from a mapping: unknown keys, missing required
    keys, wrong types and the class's own checks raise :class:`ConfigError` naming the key."""
    if not isinstance(data, dict):
        raise ConfigError(prefix, f"expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for k in data:
        if k not in fields:
            raise ConfigError(
                f"{prefix}.{k}" if prefix else str(k),
                f"unknown key (expected one of {sorted(fields)})",
            )
    kwargs = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], key, _default(f))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(key, "missing required key")
    try:
        return cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(
            f"{prefix}.{e.key}" if prefix else e.key, str(e).split(": ", 1)[-1]
        ) from None


def to_dict(cfg) -> dict:
    """Plain-data form of a config (tuples as lists), as written to YAML."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, tuple):
        return [to_dict(x) for x in cfg]
    return cfg


def _section_type(cls, section: dict, keys: list[str]):
    """The config type of the section at ``keys`` below ``cls`` (a family resolved by the tag
    its data give), or None where the path leaves the schema."""
    tp = cls
    for k in keys:
        if _is_family(tp):
            tp = tp.members().get(section.get(tp.tag, tp.default))
        if tp is None or not dataclasses.is_dataclass(tp):
            return None
        tp = typing.get_type_hints(tp).get(k)
        section = section.get(k) if isinstance(section.get(k), dict) else {}
    return tp


def apply_overrides(data: dict, overrides: list[str], cls=None) -> dict:
    """Apply ``key.path=value`` overrides (values parsed as YAML scalars) to a nested dict.

    With the schema ``cls``, setting a section's tag to another member (``model.net.kind=unet``)
    starts that section afresh from the new member's defaults, so that keys of the old member
    do not carry over; later overrides of the same section apply on top.
    """
    import yaml

    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(item, "expected an override of the form key.path=value")
        path, raw = item.split("=", 1)
        keys = path.strip().split(".")
        if not all(keys):
            raise ConfigError(path, "empty key in override path")
        node, parents = data, []
        for i, k in enumerate(keys[:-1]):
            nxt = node.get(k)
            if nxt is None:
                nxt = node[k] = {}
            if not isinstance(nxt, dict):
                raise ConfigError(".".join(keys[: i + 1]), f"is a value ({nxt!r}), not a section")
            parents.append((node, k))
            node = nxt
        value = yaml.safe_load(raw)
        if cls is not None and parents:
            tp = _section_type(cls, data, keys[:-1])
            if _is_family(tp) and keys[-1] == tp.tag and node.get(tp.tag, tp.default) != value:
                parent, k = parents[-1]
                node = parent[k] = {}
        node[keys[-1]] = value
    return data


def read_yaml(path: str | Path) -> dict:
    """A YAML file as a dict (empty file: {}); a missing file or bad YAML names the path."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config: no such file {str(path)!r}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError("", f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict):
        raise ConfigError("", f"{path}: expected a mapping at the top level")
    return data
