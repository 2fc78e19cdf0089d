"""``codecbench list codecs`` and ``codecbench new-plugin``: the installed codecs; a new plugin from the template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from codecbench.cli.app import console, friendly, print_frame
from codecbench.errors import ConfigError
from codecbench.plugins import available


@friendly
def list_codecs_cmd(
    all_: bool = typer.Option(False, "--all", help="Also list numcodecs' codecs (run them as numcodecs:<id>)."),
) -> None:
    """Every codec registered under the `codecbench.codecs` entry point, with its status."""
    import pandas as pd

    from codecbench.plugins import list_codecs

    infos = list_codecs()
    if all_:
        from codecbench.interop.numcodecs import list_numcodecs

        infos += list_numcodecs()
    rows = [
        {
            "id": i.codec_id,
            "lossless": "-" if i.lossless is None else ("yes" if i.lossless else "no"),
            "learned": "-" if i.learned is None else ("yes" if i.learned else "no"),
            "package": f"{i.distribution} {i.version}",
            "status": i.status,
            "error": i.error or "",
        }
        for i in infos
    ]
    print_frame(pd.DataFrame(rows), title="codecs")


#: Names in the plugin template (examples/third-party-codec) that ``new-plugin`` replaces.
TEMPLATE_CODEC_ID = "xordelta"
TEMPLATE_CLASS_STEM = "XorDelta"
_PLUGIN_NAME_RE = r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*"
_TEMPLATE_SKIP = {"__pycache__", ".pytest_cache", ".ruff_cache", "build", "dist", ".venv"}


def plugin_template_dir() -> Any:
    """The plugin template: ``codecbench/_plugin_template`` in a wheel, ``examples/third-party-codec`` in a checkout."""
    package = Path(__file__).resolve().parents[1]  # the codecbench package
    for candidate in (package / "_plugin_template", package.parent / "examples" / "third-party-codec"):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    raise ConfigError(
        "the plugin template is not installed with this codecbench; copy examples/third-party-codec from "
        "codecbench's source repository instead"
    )


def create_plugin(name: str, dest: Any = None) -> Any:
    """Copy the plugin template into ``dest`` (default ``./NAME``) with its names replaced by ``name``.

    The codec id becomes ``name``, the import package ``codecbench_<name>`` (``-`` as ``_``), the
    distribution ``codecbench-<name>`` and the class ``<Name>Codec``. Returns the new directory.
    Raises ``ConfigError`` for a name that is not a valid id, a codec id already installed, or a
    destination that exists and is not empty.
    """
    import re

    if not re.fullmatch(_PLUGIN_NAME_RE, name) or len(name) > 40:
        raise ConfigError(
            f"plugin name {name!r} is not valid: use lower-case letters and digits, optionally joined by '-' "
            f"or '_', starting with a letter (for example 'mycodec' or 'delta-zstd')"
        )
    if name in available():
        raise ConfigError(f"a codec named {name!r} is already installed; choose another name")
    target = Path(dest) if dest is not None else Path.cwd() / name
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} already exists and is not empty; choose another --dest")
    py_name = name.replace("-", "_")
    camel = "".join(part.capitalize() for part in re.split(r"[-_]", name))
    text_swaps = [
        (f"codecbench_{TEMPLATE_CODEC_ID}", f"codecbench_{py_name}"),
        (f"codecbench-{TEMPLATE_CODEC_ID}", f"codecbench-{name.replace('_', '-')}"),
        (TEMPLATE_CLASS_STEM, camel),
        (TEMPLATE_CODEC_ID, name),
    ]
    path_swaps = [(f"codecbench_{TEMPLATE_CODEC_ID}", f"codecbench_{py_name}"), (TEMPLATE_CODEC_ID, py_name)]

    def swap(text: str, swaps: list[tuple[str, str]]) -> str:
        for old, new in swaps:
            text = text.replace(old, new)
        return text

    template = plugin_template_dir()
    for src in sorted(template.rglob("*")):
        rel = src.relative_to(template)
        if any(part in _TEMPLATE_SKIP or part.endswith(".egg-info") for part in rel.parts) or src.suffix == ".pyc":
            continue
        out = target / swap(str(rel), path_swaps)
        if src.is_dir():
            out.mkdir(parents=True, exist_ok=True)
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(swap(src.read_text(encoding="utf-8"), text_swaps), encoding="utf-8")
    return target


@friendly
def new_plugin_cmd(
    name: str = typer.Argument(..., help="Codec id of the new plugin, e.g. mycodec."),
    dest: str = typer.Option(None, "--dest", help="Directory to create (default: ./NAME)."),
) -> None:
    """Start a codec plugin: a copy of the template distribution with its names replaced by NAME."""
    target = create_plugin(name, dest)
    py_name = name.replace("-", "_")
    console.print(
        f"created {target}: codec id {name!r}, package codecbench_{py_name}, distribution "
        f"codecbench-{name.replace('_', '-')}\n"
        f"next:\n"
        f"  edit {target}/src/codecbench_{py_name}/codec.py (encode, decode; see docs/plugins.md)\n"
        f"  pip install -e {target}\n"
        f"  codecbench list codecs\n"
        f"  pytest {target}",
        highlight=False,
        markup=False,
    )
