"""Conformance checks a codec plugin runs in its own test suite (public API: the names in ``__all__``).

Two ways to use them::

    # 1. a function: runs every check, raises ConformanceError listing every failure
    from codecbench.testing import check_codec
    results = check_codec("mycodec")                      # or a Codec instance, or a config dict

    # 2. a pytest base class: one test per check (skipped checks show as skipped)
    from codecbench.testing import CodecConformance

    class TestMyCodec(CodecConformance):
        codec_spec = {"id": "mycodec", "level": 5}

The checks (``CHECKS``, in order):

``registration``
    the codec is registered under the ``codecbench.codecs`` entry point with its ``codec_id``,
    ``get_codec(codec_id)`` gives the same class with default parameters, and the class declares
    this codecbench's ``contract_version``.
``config_round_trip``
    ``get_config()`` is JSON-serialisable and holds ``id`` plus every constructor parameter;
    ``from_config`` of its JSON round trip gives an equal codec that produces the same payload.
``round_trip``
    ``compress``/``decompress`` keep shape and dtype on tables and fields, float32 and float64;
    a lossless codec returns every bit; ``encode`` leaves its input unchanged; ``report_extras()``
    is a JSON-serialisable dict.
``lossless_exact``
    (codecs with ``lossless = True``) exact bit patterns on data holding quiet and signalling NaNs
    with payloads, -0.0, +/-Inf, subnormals and the extreme finite values.
``determinism``
    encoding the same array twice gives the same bytes; decoding twice gives the same bits.
``state``
    ``aux_nbytes() == len(save_state())``; a fresh instance made from the config plus
    ``load_state(save_state())`` decodes the payload to exactly what the fitted codec decodes.
``corrupted_payload``
    ``decode`` is called (through the harness, which re-frames the body so its CRC matches) on
    damaged bodies: empty, truncated, bytes flipped, random bytes. For each it must either raise a
    ``CodecbenchError`` (``PayloadError`` is the natural one) or return output; output is then
    checked by the harness, which must accept it with the frame's shape and dtype or reject it with
    ``CodecError``. Any other exception (``IndexError``, ``struct.error``, ``zlib.error``,
    ``ValueError``, ``MemoryError``, ...) fails the check. Returning wrong values is allowed:
    the frame's CRC-32 catches corruption before ``decode`` runs in real use.
``unsupported_input``
    odd inputs (int32, float16, empty, a single value, 1-D, a table with one more column, an
    all-NaN table, the input kind the codec does not support, and for learned codecs encoding
    before ``fit``) must either round-trip correctly or be refused with a ``CodecbenchError``;
    any other exception fails.
``declared_bound``
    (codecs whose ``declared_bound()`` is not None) the bound holds on every value, special
    values included, as the runner checks it (``codecbench.measure.bounds.check_bound``).
``default_sweep``
    ``default_sweep`` names real constructor parameters, and every setting it declares constructs
    (and, for learned codecs, fits) and round-trips.
``knob``
    (codecs whose ``knob()`` is not None; contract 1.1) the knob moves a constructor parameter, one
    of ``encode_params`` for learned codecs (a target search never refits), and both ends of its
    range construct (and round-trip, for codecs that learn nothing).

Learned codecs (``learned = True``) are fitted first: for every input a fresh instance is made from
the config and fitted on a training split of that input (20 % is held out and measured). Give a
small configuration (few epochs) in ``codec_spec``: the checks fit up to four models plus one per
sweep setting. Non-learned codecs are checked on the whole input with the instance you pass.

Inputs: by default a generated table (1000 x 4, jet-like columns ``pt, eta, phi, mass``) and a
generated field (12 x 20 x 20, smooth vortices; 20 splits into tiles of 2, 4, 5 or 10), each as
float32 and float64. ``tables=False`` or ``fields=False`` says the codec does not support that
kind: it is left out of the round trips and must instead be refused cleanly (or round-trip) in
``unsupported_input``. ``data`` replaces the generated inputs with your own (an array, a
``Dataset``, or a list of them); each float32/float64 input is also checked cast to the other
precision.

Failures: every check runs (a failing check does not stop the others); ``check_codec`` then raises
``ConformanceError`` (an ``AssertionError``) whose message lists each failed check with what went
wrong, unless ``raise_on_failure=False``, in which case it only returns the results.
"""

from codecbench.testing.conformance import CHECKS, Conformance, check_codec
from codecbench.testing.inputs import sample_field, sample_table, special_values, with_special_values
from codecbench.testing.outcome import CheckResult, ConformanceError
from codecbench.testing.pytest_class import CodecConformance

__all__ = [
    "CHECKS",
    "CheckResult",
    "CodecConformance",
    "Conformance",
    "ConformanceError",
    "check_codec",
    "sample_field",
    "sample_table",
    "special_values",
    "with_special_values",
]
