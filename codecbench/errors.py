"""The errors codecbench raises on purpose: one base class, one subclass per kind of problem.

Part of the contract (numpy-free, imports nothing): a codec raises ``CodecError`` for input it does
not support and ``PayloadError`` for a body it cannot read; the harness turns every
``CodecbenchError`` into a failed record or a one-line message, never a traceback.
"""

from __future__ import annotations

__all__ = ["CodecError", "CodecbenchError", "ConfigError", "DatasetError", "PayloadError", "PluginError"]


class CodecbenchError(Exception):
    """Base class of every error codecbench raises on purpose (bad input, broken plugin, ...)."""


class PayloadError(CodecbenchError):
    """A payload is corrupted, truncated, or was written by another codec."""


class CodecError(CodecbenchError):
    """A codec cannot handle its input, is misconfigured, or misbehaved."""


class DatasetError(CodecbenchError):
    """A dataset is unknown, missing, fails its checksum, or cannot be loaded."""


class PluginError(CodecbenchError):
    """A codec plugin cannot be found, imported, or is registered twice."""


class ConfigError(CodecbenchError):
    """A configuration file or option is malformed."""
