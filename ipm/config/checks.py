"""Checks that config classes run in ``__post_init__``: each raises
:class:`~ipm.config.ConfigError` naming the field (the loader prefixes the section's path)."""

from __future__ import annotations

from .loader import ConfigError

__all__ = ["net_kinds", "non_negative", "positive", "require"]


def require(cond: bool, key: str, message: str) -> None:
    if not cond:
        raise ConfigError(key, message)


def positive(obj, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        require(v > 0, n, f"expected a positive value, got {v!r}")


def non_negative(obj, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        require(v >= 0, n, f"expected a value >= 0, got {v!r}")


def net_kinds(obj, name: str, kinds: tuple[str, ...]) -> None:
    """The network of field ``name`` is one of ``kinds`` (the role's allowed architectures)."""
    kind = getattr(obj, name).kind
    require(kind in kinds, f"{name}.kind", f"expected one of {list(kinds)} here, got {kind!r}")
