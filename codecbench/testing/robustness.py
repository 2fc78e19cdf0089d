"""Robustness checks: damaged payloads and odd inputs end in a ``CodecbenchError`` or correct output,
never another exception, a crash or a hang.

Damaged bodies are decoded in a forked child where ``os.fork`` exists (not for learned codecs), so
a decoder whose native code crashes fails the check instead of killing the test process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from codecbench.codec import Codec
from codecbench.container import compress, decompress, frame
from codecbench.errors import CodecbenchError, PayloadError
from codecbench.testing.base import Case, ConformanceBase
from codecbench.testing.inputs import sample_field, sample_table
from codecbench.testing.outcome import Failed, bits_mismatch, explain


class RobustnessChecks(ConformanceBase):
    """Checks ``corrupted_payload`` and ``unsupported_input``."""

    def check_corrupted_payload(self) -> str:
        """decode on damaged bodies raises CodecbenchError or returns output the harness accepts or rejects."""
        rng = np.random.default_rng(1234 + self.seed)
        outcomes: dict[str, int] = {"refused": 0, "returned": 0}
        for case in self.cases:
            codec = self.codec_for(case)
            try:
                body = bytes(codec.encode(case.data))
            except Exception as exc:
                raise Failed(f"{case.name}: encode raised {explain(exc)}") from exc
            # The harness itself: a framed payload with one flipped body byte never reaches decode.
            framed = bytearray(frame(self.codec_id, case.data.dtype, case.data.shape, body))
            if body:
                framed[-1] ^= 0xFF
                try:
                    decompress(codec, bytes(framed))
                except PayloadError:
                    pass
                else:
                    raise Failed(f"{case.name}: a payload with a flipped byte was not refused by the frame check")
            damaged = _damaged_bodies(body, rng)

            def work(
                note: Callable[[dict[str, Any]], None],
                codec: Codec = codec,
                case: Case = case,
                damaged: list[tuple[str, bytes]] = damaged,
            ) -> None:
                for what, bad in damaged:
                    note({"start": what})
                    try:
                        decompress(codec, frame(self.codec_id, case.data.dtype, case.data.shape, bad))
                    except CodecbenchError:
                        note({"outcome": "refused"})
                        continue
                    except Exception as exc:
                        note({"outcome": "error", "message": explain(exc)})
                        return
                    note({"outcome": "returned"})

            if self.isolate:
                notes, crash = _run_forked(work, timeout=120.0)
            else:
                notes, crash = [], None
                work(notes.append)
            what = "?"
            for item in notes:
                what = item.get("start", what)
                outcome = item.get("outcome")
                if outcome in outcomes:
                    outcomes[outcome] += 1
                elif outcome == "error":
                    raise Failed(
                        f"{case.name}: decode of a damaged body ({what}) raised {item['message']}. decode must "
                        f"catch what its decompressor raises on a body it cannot read and raise "
                        f"codecbench.PayloadError"
                    )
            if crash is not None:
                raise Failed(
                    f"{case.name}: decode of a damaged body ({what}) {crash}: the decoder's native code is not "
                    f"safe on bad input. Check the body before handing it over (lengths, a checksum of your own) "
                    f"and raise codecbench.PayloadError"
                )
        return f"damaged bodies: {outcomes['refused']} refused with CodecbenchError, {outcomes['returned']} decoded"

    def check_unsupported_input(self) -> str:
        """Odd inputs either round-trip correctly or are refused with a CodecbenchError."""
        case = self.cases[0]
        codec = self.codec_for(case)
        base = case.data
        dt = base.dtype
        probes: list[tuple[str, Codec, np.ndarray]] = []
        table = base if base.ndim == 2 else sample_table(64, dtype=dt, seed=self.seed)
        probes += [
            ("int32 values", codec, np.arange(base.size, dtype=np.int32).reshape(base.shape)),
            ("float16 values", codec, base.astype(np.float16)),
            ("an empty array", codec, base[:0].copy()),
            ("a single value", codec, base.reshape(-1)[:1].copy()),
            ("a 1-D array of 37 values", codec, base.reshape(-1)[:37].copy()),
            ("all-NaN values", codec, np.full(base.shape, np.nan, dtype=dt)),
            ("a table with one more column", codec, np.ascontiguousarray(np.concatenate([table, table[:, :1]], 1))),
        ]
        if not self.fields:
            probes.append(("a field (3-D), which the codec does not claim to support", codec, sample_field(dtype=dt)))
        if not self.tables:
            probes.append(("a table, which the codec does not claim to support", codec, sample_table(64, dtype=dt)))
        if self.cls.learned:
            probes.append(("the input, given to an unfitted codec", self.new_instance(), base))
        notes = []
        for what, c, data in probes:
            try:
                payload = compress(c, data)
                out = decompress(c, payload)
            except CodecbenchError as exc:
                notes.append(f"{what}: refused ({type(exc).__name__})")
                continue
            except Exception as exc:
                raise Failed(
                    f"{what} ({data.dtype} {data.shape}): the round trip raised {explain(exc)}; a codec must either "
                    f"handle an input or refuse it with a codecbench.CodecError saying what it supports"
                ) from exc
            if out.shape != data.shape or out.dtype != data.dtype:
                raise Failed(f"{what}: decoded {out.dtype} {out.shape}, expected {data.dtype} {data.shape}")
            if self.cls.lossless:
                diff = bits_mismatch(data, out)
                if diff:
                    raise Failed(f"{what}: the codec claims lossless = True but the round trip changed data: {diff}")
            notes.append(f"{what}: ok")
        return "; ".join(notes)


def _damaged_bodies(body: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """Damaged variants of an encoded body, each with a description."""
    n = len(body)
    out: list[tuple[str, bytes]] = [("empty body", b"")]
    if n > 1:
        out.append(("truncated to its first byte", body[:1]))
        out.append((f"truncated to half ({n // 2} of {n} bytes)", body[: n // 2]))
        out.append(("its last byte cut", body[:-1]))
    out.append(("8 zero bytes appended", body + bytes(8)))
    for pos in sorted({0, 1, 2, 3, 4, 8, n // 2, n - 1}):
        if 0 <= pos < n:
            damaged = bytearray(body)
            damaged[pos] ^= 0xFF
            out.append((f"byte {pos} of {n} flipped", bytes(damaged)))
    out += [
        (f"{n} random bytes", rng.bytes(n)),
        ("64 random bytes", rng.bytes(64)),
        (f"{n} zero bytes", bytes(n)),
    ]
    return out


def _run_forked(
    work: Callable[[Callable[[dict[str, Any]], None]], None], timeout: float
) -> tuple[list[dict[str, Any]], str | None]:
    """Run ``work(note)`` in a forked child; return the notes it sent and how it died (None if it did not).

    A decoder whose native code crashes (segmentation fault) or hangs on a damaged body would take
    the test process with it; in a child it only ends the child, and the notes say which body did it.
    """
    import faulthandler
    import select
    import signal
    import time

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report through the pipe, never return into the caller's stack
        code = 0
        try:
            faulthandler.disable()
            os.close(read_fd)
            with os.fdopen(write_fd, "w") as out:

                def note(item: dict[str, Any]) -> None:
                    out.write(json.dumps(item) + "\n")
                    out.flush()

                work(note)
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(write_fd)
    buf = b""
    deadline = time.monotonic() + timeout
    crash: str | None = None
    with os.fdopen(read_fd, "rb") as inp:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                crash = f"did not return within {timeout:.0f} s"
                break
            ready, _, _ = select.select([inp], [], [], left)
            if ready:
                chunk = os.read(inp.fileno(), 1 << 16)
                if not chunk:
                    break
                buf += chunk
    _, status = os.waitpid(pid, 0)
    notes = [json.loads(line) for line in buf.decode().splitlines() if line.strip()]
    if crash is None and os.WIFSIGNALED(status):
        crash = f"crashed the process (signal {signal.Signals(os.WTERMSIG(status)).name})"
    elif crash is None and os.WEXITSTATUS(status):
        crash = f"ended the process with exit status {os.WEXITSTATUS(status)}"
    return notes, crash
