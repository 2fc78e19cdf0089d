"""Reading YAML that someone else wrote: ``yaml.safe_load`` with bounds on what the text may expand to.

PyYAML's ``safe_load`` constructs nothing but plain data, but an alias (``*name``) shares the node an
anchor (``&name``) marked, so 600 bytes of nested aliases describe a billion strings; anything that
walks the result (validation, a deep copy, printing it as JSON) then runs for minutes and takes
gigabytes. ``load_yaml`` composes the document first, measures the size it expands to (every node
counted as often as aliases repeat it) and its depth without expanding anything, and refuses a
document over ``MAX_NODES`` expanded nodes, ``MAX_DEPTH`` levels or ``MAX_BYTES`` of text, a
recursive alias, or one nested too deeply for the parser, each with one line. Anchors and aliases
within those bounds keep working (the packaged ``datasets.yaml`` uses them). The registry
(``codecbench.data.registry``) and run-config files (``codecbench.runner.config``) are read through it.
"""

from __future__ import annotations

from typing import Any

from codecbench.errors import ConfigError

#: Most nodes (scalars, sequences, mappings) a document may expand to, aliases counted in full.
MAX_NODES = 200_000
#: Deepest nesting of sequences and mappings accepted.
MAX_DEPTH = 64
#: Largest text accepted, in bytes (a registry or a run config is a few kilobytes).
MAX_BYTES = 8 * 2**20


def _expanded_size(root: Any, where: str) -> None:
    """Count the nodes ``root`` expands to (aliases in full, each shared node measured once) and its depth."""
    import yaml

    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if isinstance(node, yaml.ScalarNode):
            size[key], depth[key] = 1, 0
            continue
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        if done:
            active.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if size[key] > MAX_NODES:
                raise ConfigError(
                    f"{where}: the YAML expands to more than {MAX_NODES:,} values (anchors and aliases "
                    "repeat what they name); refusing it"
                )
            if depth[key] > MAX_DEPTH:
                raise ConfigError(f"{where}: the YAML is nested more than {MAX_DEPTH} levels deep; refusing it")
            continue
        if key in size:
            continue
        if key in active:
            raise ConfigError(f"{where}: the YAML has a recursive alias (an anchor used inside itself); refusing it")
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)


def load_yaml(text: str, where: str) -> Any:
    """Parse ``text`` like ``yaml.safe_load``, within ``MAX_BYTES``, ``MAX_NODES`` and ``MAX_DEPTH``.

    ``where`` names the file in error messages. Raises ``ConfigError`` (one line) for a document
    that breaks a bound, and ``yaml.YAMLError`` (as ``safe_load`` does) for text that is not YAML.
    """
    import yaml

    if len(text) > MAX_BYTES:
        raise ConfigError(f"{where}: {len(text):,} characters is more than a YAML file here may hold ({MAX_BYTES:,})")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, where)
        return loader.construct_document(node)
    except RecursionError:
        raise ConfigError(f"{where}: the YAML is nested too deeply to parse; refusing it") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ConfigError(f"{where}: a value cannot be read: {exc}") from None
    finally:
        loader.dispose()
