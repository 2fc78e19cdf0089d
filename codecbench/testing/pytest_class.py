"""``CodecConformance``: the conformance checks as a pytest base class, one test method per check.

Inputs and fitted models are built once per subclass. pytest is imported only when a check runs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from codecbench.testing.conformance import Conformance
from codecbench.testing.outcome import CheckResult, ConformanceError

_SESSIONS: dict[type, Conformance] = {}


class CodecConformance:
    """A pytest base class: subclass it as ``Test<Something>`` and set ``codec_spec``.

    Class attributes: ``codec_spec`` (a spec, ``Codec`` instance or class; give learned codecs a
    small config), ``data`` (None for the generated inputs), ``fields``/``tables`` (which kinds the
    codec supports), ``skip_checks`` (names from ``CHECKS`` to skip). Each check is one test method
    (``test_round_trip``, ...); a failed check raises ``ConformanceError`` with its message, a
    check that does not apply (``lossless_exact`` for a lossy codec) is skipped. Inputs and fitted
    models are built once per subclass.
    """

    codec_spec: ClassVar[Any] = None
    data: ClassVar[Any] = None
    fields: ClassVar[bool] = True
    tables: ClassVar[bool] = True
    skip_checks: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def conformance(cls) -> Conformance:
        """The shared ``Conformance`` of this test class (built on first use)."""
        got = _SESSIONS.get(cls)
        if got is None:
            if cls.codec_spec is None:
                raise ConformanceError(f"{cls.__name__} must set codec_spec (a codec id, config dict or Codec)")
            got = Conformance(cls.codec_spec, cls.data, fields=cls.fields, tables=cls.tables)
            _SESSIONS[cls] = got
        return got

    def run_check(self, name: str) -> CheckResult:
        """Run one check the pytest way: skip if skipped, raise ``ConformanceError`` if failed."""
        import pytest

        if name in self.skip_checks:
            pytest.skip(f"{name} is in skip_checks")
        result = self.conformance().run(name)
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status == "failed":
            raise ConformanceError(f"{self.conformance().codec_id!r} {name}: {result.message}", [result])
        return result

    def test_registration(self) -> None:
        """The codec is registered under its entry point and builds with default parameters."""
        self.run_check("registration")

    def test_config_round_trip(self) -> None:
        """get_config/from_config round-trip to an equal codec with the same payload."""
        self.run_check("config_round_trip")

    def test_round_trip(self) -> None:
        """Shape and dtype survive compress/decompress on tables and fields, float32 and float64."""
        self.run_check("round_trip")

    def test_lossless_exact(self) -> None:
        """Lossless codecs reproduce NaN payloads, -0.0, infinities and subnormals bit for bit."""
        self.run_check("lossless_exact")

    def test_determinism(self) -> None:
        """encode gives the same bytes twice."""
        self.run_check("determinism")

    def test_state(self) -> None:
        """aux_nbytes matches save_state, and a fresh instance with load_state decodes."""
        self.run_check("state")

    def test_corrupted_payload(self) -> None:
        """Damaged bodies give a CodecbenchError, never another exception."""
        self.run_check("corrupted_payload")

    def test_unsupported_input(self) -> None:
        """Odd inputs round-trip or are refused with a CodecbenchError."""
        self.run_check("unsupported_input")

    def test_declared_bound(self) -> None:
        """A declared error bound holds on every value."""
        self.run_check("declared_bound")

    def test_default_sweep(self) -> None:
        """Every default_sweep setting constructs and runs."""
        self.run_check("default_sweep")

    def test_knob(self) -> None:
        """The quality knob names a real (encode) parameter and both ends of its range work."""
        self.run_check("knob")
