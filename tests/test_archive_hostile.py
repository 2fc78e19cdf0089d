"""Archives built by an attacker: every case refused in one line, before allocating, memory bounded.

Issue 19 items 1 (crafted event counts), 7 (resource bounds), 10 (fields of the wrong type) and 12
(the stored error summary, labelled and verified). Each fixture archive is made here from a real one
by editing its manifest or members and recomputing the checksums, as an attacker would; the risky
calls run in a child process under an address-space limit (``memlimit``).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from memlimit import cli_limited, one_line_error, run_limited
from typer.testing import CliRunner

from codecbench.archive import ArchiveError, compress_input, open_archive
from codecbench.archive.format import MANIFEST
from codecbench.cli import app

ROWS = 1000


def _jagged_npz(tmp_path: Path) -> Path:
    """A table of 1000 rows in 4 events (250 each), with its event index: an entry with event counts."""
    rng = np.random.default_rng(0)
    src = tmp_path / "jets.npz"
    np.savez(
        src,
        jets=rng.normal(size=(ROWS, 3)).astype(np.float32),
        jets_columns=np.array(["pt", "eta", "phi"]),
        jets_event_index=np.repeat(np.arange(4), ROWS // 4),
    )
    return src


def _archive(tmp_path: Path, codec: str | dict = "zstd", name: str = "good.cbz") -> Path:
    out = tmp_path / name
    compress_input(_jagged_npz(tmp_path), out, codec)
    return out


def _repack(
    src: Path,
    dst: Path,
    edit: Callable[[dict, dict[str, bytes]], None],
    *,
    restamp: bool = True,
    methods: dict[str, int] | None = None,
) -> Path:
    """Copy an archive with ``edit(manifest, members)`` applied; ``restamp`` recomputes the manifest's
    member sizes and SHA-256 (so only the content is hostile, not its checksums)."""
    with zipfile.ZipFile(src) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members.pop(MANIFEST))
    edit(manifest, members)
    if restamp:
        manifest["members"] = {n: {"size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in members.items()}
    with zipfile.ZipFile(dst, "w") as zf:
        blob = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        zf.writestr(MANIFEST, blob, compress_type=zipfile.ZIP_DEFLATED)
        for n, b in members.items():
            method = (methods or {}).get(n, zipfile.ZIP_DEFLATED if n.endswith(".npy") else zipfile.ZIP_STORED)
            zf.writestr(n, b, compress_type=method)
    return dst


def _npy(values: list[int], dtype: str = "<i8") -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array(values, dtype=dtype))
    return buf.getvalue()


def _decompress_limited(cbz: Path, out: Path) -> str:
    res = cli_limited(["decompress", str(cbz), "-o", str(out)], limit_mb=1024, timeout=120)
    assert res.returncode == 1, (res.returncode, res.stdout[-2000:], res.stderr[-2000:])
    assert not out.exists()
    return one_line_error(res.stderr)


# --- 19.1: crafted event counts ------------------------------------------------------------------


@pytest.mark.parametrize(
    "counts, message",
    [
        ([2**62, 2**62, 2**62, 2**62 + 1000], r"an event count \(\d+\) exceeds the 1000 rows"),
        ([-1, 1001, 0, 0], r"an event count is negative \(-1\)"),
        ([250, 250, 250, 249], r"the event counts add up to 999 rows, the array has 1000"),
    ],
    ids=["wrapping-sum", "negative", "short"],
)
@pytest.mark.parametrize("suffix", [".npz", ".h5", ".root"])
def test_crafted_event_counts_are_refused_before_use(
    counts: list[int], message: str, suffix: str, tmp_path: Path
) -> None:
    if suffix == ".h5":
        pytest.importorskip("h5py")

    def edit(m: dict, members: dict[str, bytes]) -> None:
        members["entries/0/event_counts.npy"] = _npy(counts)

    bad = _repack(_archive(tmp_path), tmp_path / "bad.cbz", edit)
    line = _decompress_limited(bad, tmp_path / f"out{suffix}")
    import re

    assert re.search(message, line), line


def test_event_counts_of_the_wrong_dtype_or_length_are_refused(tmp_path: Path) -> None:
    good = _archive(tmp_path)
    for blob, message in [
        (_npy([250.0, 250.0, 250.0, 250.0], "<f8"), "expected int64 of shape"),
        (_npy([500, 500]), "are listed with 144 bytes, not 160"),
    ]:
        bad = _repack(good, tmp_path / "bad.cbz", lambda m, mem, b=blob: mem.update({"entries/0/event_counts.npy": b}))
        with pytest.raises(ArchiveError, match=message):
            open_archive(bad).decode(0)


def test_a_npy_header_claiming_1e12_elements_is_refused_before_allocation(tmp_path: Path) -> None:
    good = _archive(tmp_path)
    real = _npy([250] * 4)
    header = "{'descr': '<i8', 'fortran_order': False, 'shape': (1000000000000,), }"
    head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(real) - 32 - 10) + header.encode()
    head = head.ljust(len(real) - 32 - 1, b" ") + b"\n"
    forged = head + real[-32:]  # as long as the real member: the manifest's size check passes
    assert len(forged) == len(real)
    bad = _repack(good, tmp_path / "bad.cbz", lambda m, mem: mem.update({"entries/0/event_counts.npy": forged}))
    code = f"""
        from codecbench.archive import open_archive
        from codecbench.errors import CodecbenchError
        try:
            open_archive({str(bad)!r}).decode(0)
        except CodecbenchError as exc:
            raise SystemExit(f"error: {{exc}}")
    """
    res = run_limited(code, limit_mb=1024)
    assert res.returncode == 1
    assert "holds int64 of shape (1000000000000,); expected int64 of shape (4,)" in one_line_error(res.stderr)


# --- 19.7: resource bounds -----------------------------------------------------------------------


def test_a_huge_manifest_is_refused_before_it_is_read(tmp_path: Path) -> None:
    def edit(m: dict, members: dict[str, bytes]) -> None:
        m["padding"] = "x" * (60 * 2**20)  # 60 MB of JSON that deflates to about 60 kB

    bad = _repack(_archive(tmp_path), tmp_path / "bad.cbz", edit)
    assert bad.stat().st_size < 200_000
    res = cli_limited(["inspect", str(bad)], limit_mb=1024)
    assert res.returncode == 1
    assert "its manifest claims 629" in one_line_error(res.stderr) and "more than a manifest may hold" in res.stderr


def test_a_manifest_nested_200000_levels_is_one_line(tmp_path: Path) -> None:
    def edit(m: dict, members: dict[str, bytes]) -> None:
        m["entries"][0]["meta"] = {"deep": "__DEEP__"}

    bad = _repack(_archive(tmp_path), tmp_path / "bad.cbz", edit)
    with zipfile.ZipFile(bad) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members[MANIFEST] = members[MANIFEST].replace(b'"__DEEP__"', b"[" * 200_000 + b"]" * 200_000)
    with zipfile.ZipFile(bad, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b, compress_type=zipfile.ZIP_DEFLATED if n.endswith((".npy", ".json")) else 0)
    res = cli_limited(["inspect", str(bad)], limit_mb=1024)
    assert res.returncode == 1
    assert "manifest is nested too deeply" in one_line_error(res.stderr)


def test_a_listed_huge_member_in_a_small_archive_is_refused_before_reading(tmp_path: Path) -> None:
    """The manifest lists a 640 MB payload, the ZIP holds it deflated (under 1 MB): refused from the
    manifest's own numbers (the entry's shape bounds its payload), in a process limited to 512 MiB."""
    good = _archive(tmp_path)
    bomb = tmp_path / "bomb.cbz"
    size = 640 * 2**20
    with zipfile.ZipFile(good) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members.pop(MANIFEST))
    manifest["entries"][0]["sizes"]["payload_bytes"] = size
    with zipfile.ZipFile(bomb, "w", compresslevel=1) as zf:
        info = zipfile.ZipInfo("entries/0/payload.cbf")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as fh:
            block = b"\x00" * 2**24
            for _ in range(size // len(block)):
                fh.write(block)
        # the listed digest does not matter: a reader that trusted the size would read 640 MB to check it
        manifest["members"]["entries/0/payload.cbf"] = {"size": size, "sha256": "0" * 64}
        for n, b in members.items():
            if n != "entries/0/payload.cbf":
                zf.writestr(n, b, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(MANIFEST, json.dumps(manifest), compress_type=zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 5 * 2**20
    res = cli_limited(["inspect", str(bomb)], limit_mb=512)
    assert res.returncode == 1, res.stdout[-1000:]
    assert f"sizes.payload_bytes {size} is implausible for 12000 raw bytes" in one_line_error(res.stderr)


def test_a_compressed_payload_is_refused(tmp_path: Path) -> None:
    bad = _repack(_archive(tmp_path), tmp_path / "bad.cbz", lambda m, mem: None, methods={"entries/0/payload.cbf": 8})
    with pytest.raises(ArchiveError, match="is compressed inside the ZIP; codecbench stores payloads"):
        open_archive(bad)


def test_a_zip_entry_that_inflates_past_its_declared_size_is_read_only_that_far(tmp_path: Path) -> None:
    """The ZIP directory says 160 bytes (the event counts' real size); the deflated stream holds 200 MB.
    Reading stops at 160 + 1 bytes: the archive is refused without inflating the rest."""
    good = _archive(tmp_path)
    with zipfile.ZipFile(good) as zf:
        real = zf.read("entries/0/event_counts.npy")
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = comp.compress(real) + b"".join(comp.compress(b"\x07" * 2**20) for _ in range(200)) + comp.flush()
    bad = _repack(good, tmp_path / "bad.cbz", lambda m, mem: None)
    blob = bytearray(bad.read_bytes())
    with zipfile.ZipFile(bad) as zf:
        info = zf.getinfo("entries/0/event_counts.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    old_comp = info.compress_size
    blob[start : start + old_comp] = stream  # the bomb, in place of the real deflated bytes
    delta = len(stream) - old_comp
    for pos in (info.header_offset + 18,):  # local header: compressed size
        blob[pos : pos + 4] = struct.pack("<I", len(stream))
    cd = blob.rfind(b"PK\x01\x02" + bytes(blob[info.header_offset + 4 : info.header_offset + 6]), 0)
    cd = bytes(blob).find(b"PK\x01\x02", start + len(stream))
    while cd >= 0:  # the central directory entries after the member move by delta
        name_len = struct.unpack("<H", blob[cd + 28 : cd + 30])[0]
        if blob[cd + 46 : cd + 46 + name_len] == info.filename.encode():
            blob[cd + 20 : cd + 24] = struct.pack("<I", len(stream))
        else:
            off = struct.unpack("<I", blob[cd + 42 : cd + 46])[0]
            if off > info.header_offset:
                blob[cd + 42 : cd + 46] = struct.pack("<I", off + delta)
        extra_len, comment_len = struct.unpack("<HH", blob[cd + 30 : cd + 34])
        nxt = cd + 46 + name_len + extra_len + comment_len
        cd = nxt if blob[nxt : nxt + 4] == b"PK\x01\x02" else -1
    eocd = bytes(blob).rfind(b"PK\x05\x06")
    cd_offset = struct.unpack("<I", blob[eocd + 16 : eocd + 20])[0]
    blob[eocd + 16 : eocd + 20] = struct.pack("<I", cd_offset + delta)
    bomb = tmp_path / "inflating.cbz"
    bomb.write_bytes(bytes(blob))
    code = f"""
        import resource
        from codecbench.archive import open_archive
        a = open_archive({str(bomb)!r})
        counts = a.decode(0).event_counts.tolist()
        print(counts, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
    res = run_limited(code, limit_mb=1024)
    assert res.returncode == 0, res.stderr[-2000:]
    counts, maxrss_kb = res.stdout.split("] ")
    assert counts == "[250, 250, 250, 250" and int(maxrss_kb) < 400_000  # the 200 MB were never inflated


def test_an_unused_or_unlisted_member_is_refused(tmp_path: Path) -> None:
    good = _archive(tmp_path)
    bad = _repack(good, tmp_path / "bad.cbz", lambda m, mem: mem.update({"entries/9/extra.bin": b"x" * 100}))
    with pytest.raises(ArchiveError, match="lists member 'entries/9/extra.bin', which no entry uses"):
        open_archive(bad)


def test_state_size_must_match_what_the_archive_declares(tmp_path: Path) -> None:
    def edit(m: dict, members: dict[str, bytes]) -> None:
        m["entries"][0]["state"] = "entries/0/state.bin"
        members["entries/0/state.bin"] = b"\x00" * 4096

    bad = _repack(_archive(tmp_path), tmp_path / "bad.cbz", edit)
    with pytest.raises(ArchiveError, match=r"member 'entries/0/state.bin' is listed with 4096 bytes, its sizes say 0"):
        open_archive(bad)


ae_needed = pytest.mark.skipif(
    not __import__("importlib").util.find_spec("torch"), reason="the learned codecs need codecbench[ml]"
)


@ae_needed
@pytest.mark.parametrize("hidden", [[20000, 20000], [60000, 60000]])
def test_an_ae_config_asking_for_gigabytes_is_refused_before_building(hidden: list[int], tmp_path: Path) -> None:
    """An ae entry whose config and state agree on hidden=[20000, 20000] (3.4 GB of weights): refused
    by the config's size cap before any network is built, in a process limited to 2 GiB."""
    from codecbench_plugins.autoencoder import common
    from codecbench_plugins.autoencoder.common import Layout

    good = _archive(tmp_path)
    meta = {
        "layout": Layout("table", 3, None).to_meta(),
        "latent_dim": 2,
        "hidden": hidden,
        "activation": "leaky_relu",
        "batch_norm": False,
        "norm": "minmax",
        "latent_activation": "linear",
    }
    scaler = common.Scaler.fit(np.random.default_rng(0).normal(size=(50, 3)), "minmax", None).arrays()
    arrays = {**scaler, "latent.lo": np.zeros(2), "latent.hi": np.ones(2)}  # all but the weights: matches
    state = common.pack_state("ae", "decoder", arrays, meta)

    def edit(m: dict, members: dict[str, bytes]) -> None:
        e = m["entries"][0]
        e["codec"] = {"id": "ae", "hidden": hidden, "latent_dim": 2, "device": "cpu"}
        e["codec_info"].update(lossless=False, learned=True)
        e["state"] = "entries/0/state.bin"
        e["sizes"]["aux_bytes"] = len(state)
        members["entries/0/state.bin"] = state

    bad = _repack(good, tmp_path / "ae.cbz", edit)
    res = cli_limited(["decompress", str(bad), "-o", str(tmp_path / "out.npz")], limit_mb=2048, timeout=180)
    assert res.returncode == 1, res.stderr[-2000:]
    assert f"hidden={hidden}" in one_line_error(res.stderr) and "more than the 67,108,864 (2**26)" in res.stderr


@ae_needed
def test_an_ae_state_smaller_than_its_config_is_refused_before_building(tmp_path: Path) -> None:
    from codecbench_plugins.autoencoder import common
    from codecbench_plugins.autoencoder.ae import AECodec
    from codecbench_plugins.autoencoder.common import Layout

    meta = {
        "layout": Layout("table", 3, None).to_meta(),
        "latent_dim": 2,
        "hidden": [2000, 2000],
        "activation": "leaky_relu",
        "batch_norm": False,
        "norm": "minmax",
        "latent_activation": "linear",
    }
    scaler = common.Scaler.fit(np.random.default_rng(0).normal(size=(50, 3)), "minmax", None).arrays()
    arrays = {**scaler, "latent.lo": np.zeros(2), "latent.hi": np.ones(2), "decoder.0.weight": np.zeros((2, 2))}
    blob = common.pack_state("ae", "decoder", arrays, meta)
    codec = AECodec(hidden=[2000, 2000], latent_dim=2, device="cpu")
    pattern = r"decoder state does not match the configured network: tensor '0\.(bias|weight)'"
    with pytest.raises(Exception, match=pattern):
        codec.load_state(blob)


# --- 19.10: fields of the wrong type -------------------------------------------------------------


def _set(path: list, value: object) -> Callable[[dict, dict], None]:
    def edit(m: dict, members: dict) -> None:
        node = m
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


WRONG = {
    "codec a string": (["entries", 0, "codec"], "zstd", r"field 'codec' must be a mapping with an 'id'"),
    "codec a list": (["entries", 0, "codec"], ["zstd"], r"field 'codec' must be a mapping with an 'id'"),
    "shape abc": (["entries", 0, "shape"], "abc", r"field 'shape' must be a list of non-negative integers"),
    "shape negative": (["entries", 0, "shape"], [-1, 3], r"field 'shape' must be a list of non-negative integers"),
    "sizes a list": (["entries", 0, "sizes"], [1, 2], r"field 'sizes' must give raw_bytes, payload_bytes"),
    "sizes a string": (["entries", 0, "sizes", "raw_bytes"], "12000", r"field 'sizes' must give raw_bytes"),
    "units a list": (["entries", 0, "units"], ["GeV"], r"field 'units' must be a mapping"),
    "integer name": (["entries", 0, "name"], 7, r"manifest entry 0: field 'name' must be a non-empty plain name"),
    "empty name": (["entries", 0, "name"], "", r"field 'name' must be a non-empty plain name, not ''"),
    "name with a slash": (["entries", 0, "name"], "../x", r"field 'name' must be a non-empty plain name"),
    "dtype object": (["entries", 0, "dtype"], "|O", r"field 'dtype' must be a plain numpy number type"),
    "errors a string": (["entries", 0, "errors"], "none", r"field 'errors' must give max_abs_error"),
    "root a list": (["entries", 0, "root"], [1], r"field 'root' must be a mapping or null"),
    "n_events a string": (["entries", 0, "root", "n_events"], "4", r"field 'root.n_events' must be a non-negative"),
    "bound a string": (["entries", 0, "bound"], "abs", r"field 'bound' must be a mapping or null"),
    "members a list": (["members"], [], r"the manifest has no entries or no member list"),
}


@pytest.mark.parametrize("case", list(WRONG))
@pytest.mark.parametrize("command", ["inspect", "decompress"])
def test_archive_fields_of_the_wrong_type_are_one_line(case: str, command: str, tmp_path: Path) -> None:
    path, value, pattern = WRONG[case]
    bad = _repack(_archive(tmp_path), tmp_path / "bad.cbz", _set(path, value), restamp=path != ["members"])
    args = ["inspect", str(bad)] if command == "inspect" else ["decompress", str(bad), "-o", str(tmp_path / "o.h5")]
    res = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    assert res.exit_code == 1, (res.output, res.exception)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    import re

    assert re.search(pattern, lines[0]), lines[0]


# --- 19.12: the stored error summary -------------------------------------------------------------


def test_inspect_labels_the_errors_as_recorded_and_verify_recomputes_them(tmp_path: Path) -> None:
    src = _jagged_npz(tmp_path)
    lossy = tmp_path / "trunc.cbz"
    compress_input(src, lossy, {"id": "trunc", "bits": 6})
    runner = CliRunner()
    res = runner.invoke(app, ["inspect", str(lossy)], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "recorded at compression" in res.stdout and "--verify" in res.stdout

    res = runner.invoke(app, ["inspect", str(lossy), "--verify", "--original", str(src)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "verified by decoding: match (recomputed from the original and a fresh decode" in res.stdout
    res = runner.invoke(app, ["inspect", str(lossy), "--verify"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "verified by decoding: unverified" in res.stdout and "--original" in res.stdout

    def forge(m: dict, members: dict) -> None:  # claim the lossy entry is exact
        e = m["entries"][0]["errors"]
        e["max_abs_error"] = 0.0
        for stats in e["variables"].values():
            stats["residual_rms"] = 0.0

    forged = _repack(lossy, tmp_path / "forged.cbz", forge)
    res = runner.invoke(app, ["inspect", str(forged), "--verify", "--original", str(src)], env={"COLUMNS": "200"})
    assert res.exit_code == 1
    line = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(line) == 1 and "entry 'jets': the stored error summary does not match a fresh decode" in line[0]
    assert "max_abs_error recorded 0.0, recomputed" in line[0]

    exact = _archive(tmp_path, "zstd", "exact.cbz")
    res = runner.invoke(app, ["inspect", str(exact), "--verify", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["entries"][0]["verified"]["status"] == "match"
    forged = _repack(exact, tmp_path / "forged2.cbz", _set(["entries", 0, "errors", "worst_rel_rms"], 0.25))
    res = runner.invoke(app, ["inspect", str(forged), "--verify"])
    assert res.exit_code == 1 and "worst_rel_rms recorded 0.25, a lossless decode gives 0" in res.stderr
    other = tmp_path / "other.npz"
    np.savez(other, jets=np.zeros((ROWS, 3), np.float32), jets_columns=np.array(["pt", "eta", "phi"]))
    res = runner.invoke(app, ["inspect", str(lossy), "--verify", "--original", str(other)])
    assert res.exit_code == 1 and "the original given is not the data this entry was made from" in res.stderr


def test_verify_uses_the_registered_dataset_an_archive_was_made_from(tmp_path: Path) -> None:
    compress_input("jets-synthetic", tmp_path / "syn.cbz", {"id": "trunc", "bits": 8})
    res = CliRunner().invoke(app, ["inspect", str(tmp_path / "syn.cbz"), "--verify"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "verified by decoding: match (recomputed from the original" in res.stdout


def test_inspect_holds_no_payload_in_memory(tmp_path: Path) -> None:
    import tracemalloc

    src = tmp_path / "big.npz"
    np.savez(src, x=np.random.default_rng(0).random((3_000_000, 2), dtype=np.float32))  # 24 MB
    compress_input(src, tmp_path / "big.cbz", "raw")
    tracemalloc.start()
    archive = open_archive(tmp_path / "big.cbz")
    archive.summary(), archive.totals()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert archive.entries[0]["sizes"]["payload_bytes"] > 24_000_000 and peak < 4_000_000, peak


def test_verify_without_the_registered_dataset_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compress_input("jets-synthetic", tmp_path / "syn.cbz", {"id": "trunc", "bits": 8})
    reg = tmp_path / "reg.yaml"  # the name now points at a file that is nowhere
    reg.write_text(
        f"datasets:\n  jets-synthetic:\n    file: gone.npy\n    sha256: '{'0' * 64}'\n    loader: {{format: npy}}\n"
    )
    monkeypatch.setenv("CODECBENCH_REGISTRY", str(reg))
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    res = CliRunner().invoke(app, ["inspect", str(tmp_path / "syn.cbz"), "--verify"], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert "verified by decoding: unverified (decoded; the registered dataset 'jets-synthetic'" in res.stdout


def test_manifest_depth_and_event_count_bounds(tmp_path: Path) -> None:
    good = _archive(tmp_path)
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    bad = _repack(good, tmp_path / "deep.cbz", _set(["entries", 0, "meta"], {"x": deep}))
    with pytest.raises(ArchiveError, match="its manifest is nested more than 32 levels deep"):
        open_archive(bad)
    many = ROWS + 2**24 + 1  # more empty events than an entry of 1000 rows may claim

    def claim(m: dict, members: dict) -> None:
        m["entries"][0]["root"]["n_events"] = many

    bad = _repack(good, tmp_path / "events.cbz", claim)
    with pytest.raises(ArchiveError, match=rf"root.n_events {many} does not fit an entry of 1000 rows"):
        open_archive(bad)
