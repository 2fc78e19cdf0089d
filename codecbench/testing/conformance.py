"""``Conformance``: every check family in one object, run check by check; ``check_codec``.

A check is a ``check_<name>`` method of one of the family classes (``registration``, ``round_trip``,
``robustness``, ``bounds``, ``sweeps``); ``CHECKS`` is their order. ``run`` never raises for a
failing codec: it returns a ``CheckResult``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from codecbench.codec import Codec
from codecbench.errors import CodecError
from codecbench.testing.bounds import BoundChecks
from codecbench.testing.outcome import CheckResult, ConformanceError, Failed, Skipped, explain
from codecbench.testing.registration import RegistrationChecks
from codecbench.testing.robustness import RobustnessChecks
from codecbench.testing.round_trip import RoundTripChecks
from codecbench.testing.sweeps import SweepChecks

#: Names of the checks, in the order ``check_codec`` runs them.
CHECKS: tuple[str, ...] = (
    "registration",
    "config_round_trip",
    "round_trip",
    "lossless_exact",
    "determinism",
    "state",
    "corrupted_payload",
    "unsupported_input",
    "declared_bound",
    "default_sweep",
    "knob",
)


class Conformance(RegistrationChecks, RoundTripChecks, RobustnessChecks, BoundChecks, SweepChecks):
    """The conformance checks for one codec, sharing its inputs and fitted instances.

    ``codec_or_spec`` is a ``Codec`` instance, a ``Codec`` subclass (built with default
    parameters), or a spec for ``get_codec`` (``"mycodec"`` or ``{"id": "mycodec", ...}``).
    See the module docstring for ``data``, ``fields`` and ``tables``. ``run(name)`` runs one check
    and returns its ``CheckResult``; it never raises for a failing codec.
    """

    def run(self, name: str) -> CheckResult:
        """Run the check called ``name`` (one of ``CHECKS``) and return its result."""
        if name not in CHECKS:
            raise CodecError(f"unknown conformance check {name!r}; the checks are: {', '.join(CHECKS)}")
        method: Callable[[], str] = getattr(self, f"check_{name}")
        try:
            message = method()
        except Skipped as exc:
            return CheckResult(name, "skipped", str(exc))
        except Failed as exc:
            return CheckResult(name, "failed", str(exc))
        except Exception as exc:  # a bug in the codec that escaped a more specific message
            return CheckResult(name, "failed", f"unexpected {explain(exc)}")
        return CheckResult(name, "passed", message or "")

    def run_all(self, checks: Iterable[str] | None = None, skip: Iterable[str] = ()) -> list[CheckResult]:
        """Run ``checks`` (default: all of ``CHECKS``), recording those in ``skip`` as skipped."""
        skipped = set(skip)
        unknown = sorted((skipped | set(checks or ())) - set(CHECKS))
        if unknown:
            raise CodecError(f"unknown conformance check(s) {', '.join(map(repr, unknown))}; the checks are: {CHECKS}")
        names = list(checks) if checks is not None else list(CHECKS)
        return [CheckResult(n, "skipped", "skipped on request") if n in skipped else self.run(n) for n in names]


def check_codec(
    codec_or_spec: Codec | type[Codec] | str | dict[str, Any],
    data: Any = None,
    *,
    fields: bool = True,
    tables: bool = True,
    checks: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    raise_on_failure: bool = True,
) -> list[CheckResult]:
    """Run the conformance checks on a codec and return one ``CheckResult`` per check.

    ``codec_or_spec``: a ``Codec`` instance, class, or ``get_codec`` spec. ``data``: inputs replacing
    the generated table and field (see the module docstring). ``fields``/``tables``: whether the codec
    supports that kind of input. ``checks``: run only these (default ``CHECKS``); ``skip``: record
    these as skipped. Every selected check runs; if any failed and ``raise_on_failure`` is True
    (the default), ``ConformanceError`` is raised listing each failure, with every result in its
    ``results`` attribute.
    """
    conformance = Conformance(codec_or_spec, data, fields=fields, tables=tables)
    results = conformance.run_all(checks, skip)
    failed = [r for r in results if r.status == "failed"]
    if failed and raise_on_failure:
        lines = [f"codec {conformance.codec_id!r} failed {len(failed)} of {len(results)} conformance checks:"]
        lines += [f"- {r.name}: {r.message}" for r in failed]
        raise ConformanceError("\n".join(lines), results)
    return results
