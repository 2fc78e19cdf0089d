"""``codecbench compress``, ``decompress`` and ``inspect``: self-contained archives of the user's own files."""

from __future__ import annotations

from typing import Any

import typer

from codecbench.cli.app import (
    REGISTRY_HELP,
    console,
    err_console,
    fmt_cell,
    friendly,
    human_bytes,
    print_frame,
    split_list,
)

#: How ``inspect`` labels the error summary it prints (the manifest's numbers, which a file can forge).
RECORDED = "recorded at compression (stored in the archive; `inspect --verify` recomputes them)"


def _print_archive(archive: Any, as_json: bool = False, checks: list[dict[str, Any]] | None = None) -> None:
    """What `inspect` (and `compress` at its end) shows: per entry sizes, ratios and stored errors;
    with ``checks`` (``inspect --verify``) whether a fresh decode agrees with them."""
    import json

    import pandas as pd

    rows = archive.summary()
    totals = archive.totals()
    verdicts = {c["name"]: c for c in checks or []}
    if as_json:
        out = {
            "archive": str(archive.path),
            "format_version": archive.manifest["format_version"],
            "codecbench_version": archive.manifest.get("codecbench_version"),
            "source": archive.manifest.get("source"),
            "errors_are": RECORDED,
            "totals": totals,
            "entries": [
                {
                    **r,
                    "variables": e["errors"]["variables"],
                    "bound": e.get("bound"),
                    **({"verified": verdicts[r["name"]]} if r["name"] in verdicts else {}),
                }
                for r, e in zip(rows, archive.entries)
            ],
        }
        console.print_json(json.dumps(out, default=str))
        return
    src = archive.manifest.get("source") or {}
    console.print(
        f"[bold]{archive.path.name}[/]: codecbench archive v{archive.manifest['format_version']} "
        f"(codecbench {archive.manifest.get('codecbench_version', '?')}), input {src.get('input')}",
        highlight=False,
        soft_wrap=True,
    )
    for r in rows:
        r["shape"] = "x".join(map(str, r["shape"]))
        r["payload"] = human_bytes(r["payload_bytes"])
        r["state"] = human_bytes(r["state_bytes"])
        r["total"] = human_bytes(r["total_bytes"])
        r["raw"] = human_bytes(r["raw_bytes"])
        r["fit_on"] = r["fit_on"] or "-"
    cols = ["name", "codec", "shape", "raw", "payload", "state", "total", "ratio", "effective_ratio", "fit_on"]
    headers = {"effective_ratio": "eff. ratio", "fit_on": "fitted on"}
    print_frame(pd.DataFrame(rows), title="entries", columns=cols, headers=headers)
    for r, e in zip(rows, archive.entries):
        console.print(f"codec config of {r['name']}: {json.dumps(e['codec'])}", highlight=False, soft_wrap=True)
        var_rows = [
            {"variable": v, "unit": (e.get("units") or {}).get(v, ""), **stats}
            for v, stats in e["errors"]["variables"].items()
        ]
        vcols = ["variable", "unit", "residual_rms", "rel_rms", "response_rms", "max_abs_error", "abs_error_p99"]
        print_frame(pd.DataFrame(var_rows), title=f"errors of {r['name']}, {RECORDED}", columns=vcols)
        line = (
            f"max abs error {fmt_cell(r['max_abs_error'])}, worst rel RMS {fmt_cell(r['worst_rel_rms'])}, "
            f"NRMSE {fmt_cell(r['nrmse'])}, PSNR {fmt_cell(r['psnr'])} dB"
        )
        if e.get("bound"):
            b = e["bound"]
            line += f"; declared {b['bound_mode']} bound: {b['bound_violations']} violations of {b['bound_checked']}"
        console.print(f"recorded at compression: {line}", highlight=False, soft_wrap=True)
        if r["name"] in verdicts:
            v = verdicts[r["name"]]
            console.print(f"verified by decoding: {v['status']} ({v['detail']})", highlight=False, soft_wrap=True)
    console.print(
        f"total: raw {human_bytes(totals['raw_bytes'])}, payload {human_bytes(totals['payload_bytes'])} + "
        f"state {human_bytes(totals['state_bytes'])} = {human_bytes(totals['total_bytes'])} "
        f"(ratio {fmt_cell(totals['ratio'])}, effective ratio {fmt_cell(totals['effective_ratio'])}); "
        f"archive file {human_bytes(totals['file_bytes'])} with its manifest",
        highlight=False,
        soft_wrap=True,
    )


def _branch_groups(values: list[str]) -> list[list[str]] | None:
    groups = [g for g in (split_list(v) for v in values) if g]
    return groups or None


@friendly
def compress_cmd(
    input_: str = typer.Argument(..., metavar="INPUT", help="npz/npy, ROOT or HDF5 file, or a registered dataset."),
    out: str = typer.Option(..., "--out", "-o", help="Archive to write (e.g. out.cbz)."),
    codec: str = typer.Option(..., "--codec", "-c", help='Codec spec: "zstd" or \'{"id": "trunc", "bits": 10}\'.'),
    columns: str = typer.Option(None, "--columns", help="Comma-separated columns (or patterns) of a table to keep."),
    tree: str = typer.Option(None, "--tree", help="ROOT tree (default: the file's only tree)."),
    branches: list[str] = typer.Option(
        [],
        "--branches",
        "-b",
        help="ROOT branches (comma-separated, patterns allowed); repeat for more groups. Default: every numeric "
        "branch, one group per counter.",
    ),
    key: str = typer.Option(None, "--key", "-k", help="Array in an npz file / dataset in an HDF5 file."),
    kind: str = typer.Option("auto", "--kind", help="auto (2-D arrays are tables), table or field."),
    fit_on: str = typer.Option(
        None, "--fit-on", help="File or dataset to fit a learned codec on (default: the input itself)."
    ),
    int_codec: str = typer.Option(
        "zstd", "--int-codec", help="Lossless codec for integer and boolean arrays when --codec is lossy."
    ),
    registry: str = typer.Option(None, "--registry", help=REGISTRY_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the archive's path."),
) -> None:
    """Compress a file or dataset into a self-contained archive (payload, codec config, decoder state, errors)."""
    from codecbench.archive import compress_input

    progress = None
    if not quiet:

        def progress(epoch: int, n_epochs: int, **metrics: float) -> None:
            extra = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            err_console.print(f"fit: epoch {epoch}/{n_epochs} {extra}", highlight=False)

    archive = compress_input(
        input_,
        out,
        codec,
        key=key,
        tree=tree,
        branches=_branch_groups(branches),
        columns=split_list(columns),
        kind=kind,
        fit_on=fit_on,
        registry=registry,
        progress=progress,
        int_codec=int_codec,
    )
    if quiet:
        console.print(str(archive.path), highlight=False, soft_wrap=True)
    else:
        _print_archive(archive)


@friendly
def decompress_cmd(
    archive: str = typer.Argument(..., help="Archive written by `codecbench compress`."),
    out: str = typer.Option(..., "--out", "-o", help="Output file: .npz, .root or .h5."),
    fmt: str = typer.Option(None, "--format", help="npz, root or hdf5 (default: from the output's suffix)."),
    device: str = typer.Option(None, "--device", help="cpu or cuda for a learned codec's decoder."),
) -> None:
    """Decode an archive in a fresh process and write the reconstructed arrays."""
    from codecbench.archive import decompress_archive

    items = decompress_archive(archive, out, fmt=fmt, device=device)
    for it in items:
        ev = f", {len(it.event_counts)} events" if it.event_counts is not None else ""
        console.print(f"{it.name}: shape {tuple(it.data.shape)} {it.data.dtype}{ev}", highlight=False)
    console.print(f"wrote {out}", highlight=False, soft_wrap=True)


@friendly
def inspect_cmd(
    archive: str = typer.Argument(..., help="Archive written by `codecbench compress`."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    verify: bool = typer.Option(
        False,
        "--verify",
        help="Decode every entry and recompute its errors; exit 1 if they differ from the stored ones.",
    ),
    original: str = typer.Option(
        None, "--original", help="With --verify: the input the archive was made from (lossy entries need it)."
    ),
    registry: str = typer.Option(None, "--registry", help=REGISTRY_HELP),
) -> None:
    """Codec, sizes (payload, state, total), ratios and the error summary recorded at compression."""
    from codecbench.archive import open_archive
    from codecbench.archive.format import ArchiveError
    from codecbench.archive.verify import verify_archive

    opened = open_archive(archive)
    if original is not None and not verify:
        raise ArchiveError("--original is used by --verify; add --verify")
    checks = verify_archive(opened, original, registry) if verify else None
    _print_archive(opened, as_json, checks)
    bad = [c for c in checks or [] if c["status"] == "differs"]
    if bad:
        raise ArchiveError(
            f"{opened.path.name}: entry {bad[0]['name']!r}: the stored error summary does not match a fresh decode "
            f"({bad[0]['detail']})"
        )
