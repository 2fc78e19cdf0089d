"""Deprecated alias of ``codecbench.interop.numcodecs``, kept for scripts written before the layout move.

Importing it warns (``DeprecationWarning``); it will be removed in a later release. Every name it
had is still here.
"""

import warnings

from codecbench.interop.numcodecs import (  # noqa: F401
    EXPORT_PREFIX,
    ID_PREFIX,
    LOSSLESS_IDS,
    OBJECT_ONLY_IDS,
    REFUSED_IDS,
    SPEC_PREFIX,
    NumcodecsCodec,
    adapter_class,
    as_numcodecs,
    export_class,
    import_numcodecs,
    list_numcodecs,
    numcodecs_ids,
    parse_numcodecs_spec,
    register,
    register_all,
)


def __getattr__(name: str) -> object:
    """``export_<id>``, as the numcodecs entry points of earlier versions named them."""
    import codecbench.interop.numcodecs as _new

    return getattr(_new, name)


warnings.warn(
    "codecbench.numcodecs is deprecated; import from codecbench.interop.numcodecs instead",
    DeprecationWarning,
    stacklevel=2,
)
