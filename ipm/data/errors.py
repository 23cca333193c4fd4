"""The one error type of the data loaders: a missing, corrupt or unusable file, by path."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """Data that cannot be used as it is; the message names the file or folder."""
