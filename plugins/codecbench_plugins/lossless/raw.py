"""``raw``: the identity codec, the baseline every table shows (ratio just under 1: the frame)."""

from __future__ import annotations

import numpy as np

from codecbench import Codec


class RawCodec(Codec):
    """Stores the array's bytes unchanged."""

    codec_id = "raw"
    lossless = True

    def __init__(self) -> None:
        pass

    def encode(self, data: np.ndarray) -> bytes:
        return data.tobytes()

    def decode(self, payload: bytes) -> np.ndarray:
        return np.frombuffer(payload, dtype=np.uint8)
