"""Every built-in codec's quality knob (contract 1.1): a real parameter, an encode parameter for learned codecs."""

from __future__ import annotations

from importlib import metadata

import pytest

from codecbench import CodecbenchError, CodecError, Knob, get_codec

BUILTINS = sorted(
    ep.name
    for ep in metadata.entry_points(group="codecbench.codecs")
    if ep.dist is not None and ep.dist.metadata["Name"] == "codecbench"
)
#: Lossless codecs have nothing to trade: no knob.
NO_KNOB = {"raw", "gzip", "zstd", "blosc", "pcodec", "openzl"}


@pytest.mark.parametrize("codec_id", BUILTINS)
def test_knob_is_a_parameter_and_never_refits(codec_id: str) -> None:
    try:
        codec = get_codec(codec_id)
    except CodecbenchError as exc:  # an optional extra is missing
        pytest.skip(str(exc))
    knob = codec.knob()
    if codec_id in NO_KNOB:
        assert knob is None and codec.lossless
        return
    assert isinstance(knob, Knob), f"{codec_id} declares no knob"
    assert knob.param in codec.param_names()
    if codec.learned:
        assert knob.param in codec.encode_params  # a search never refits
    for value in (knob.lo, knob.hi):  # both ends of the range construct
        get_codec({**codec.get_config(), knob.param: int(value) if knob.integer else value})


def test_knob_validation() -> None:
    for bad in (
        {"lo": 0, "hi": 1, "log": True},
        {"lo": 2, "hi": 1},
        {"lo": 0.5, "hi": 3, "integer": True},
        {"lo": 0, "hi": 1, "finer": "sideways"},
        {"lo": float("nan"), "hi": 1},
    ):
        with pytest.raises(CodecError):
            Knob("x", **bad)
    knob = Knob("bits", 1, 23, integer=True)
    assert knob.finest == 23 and knob.coarsest == 1
    assert Knob("e", 1e-9, 1.0, log=True, finer="down").finest == 1e-9
