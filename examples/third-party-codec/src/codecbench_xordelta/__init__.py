"""codecbench-xordelta: a lossless codec plugin for codecbench (see codec.py)."""

from codecbench_xordelta.codec import XorDeltaCodec

__all__ = ["XorDeltaCodec"]
__version__ = "0.1.0"
