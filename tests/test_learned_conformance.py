"""The plugin author's conformance battery (``codecbench.testing``) run on ``ae``, ``sae`` and ``flow``."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("nflows")

from codecbench.testing import CodecConformance  # noqa: E402

pytestmark = pytest.mark.slow

TINY = {"hidden": [16], "epochs": 2, "batch_size": 128, "min_epoch_steps": 1}
TINY_FLOW = {"layers": 1, "hidden": 8, "num_blocks": 1, "epochs": 2, "batch_size": 128, "min_epoch_steps": 1}


class TestAEConformance(CodecConformance):
    codec_spec = {"id": "ae", **TINY}


class TestSAEConformance(CodecConformance):
    codec_spec = {"id": "sae", **TINY, "sparsity": "kl", "latent_bits": 10}


class TestFlowConformance(CodecConformance):
    codec_spec = {"id": "flow", **TINY_FLOW}


class TestFlowBoundConformance(CodecConformance):
    codec_spec = {"id": "flow", **TINY_FLOW, "bits": 9, "max_std_error": 1e-3}


class TestFlowRelBoundConformance(CodecConformance):
    codec_spec = {"id": "flow", **TINY_FLOW, "bits": 9, "max_rel_error": 1e-4}
