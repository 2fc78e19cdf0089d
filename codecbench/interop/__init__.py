"""codecbench and other ecosystems, both ways.

- ``numcodecs_codecs``: numcodecs codecs run as codecbench codecs (``numcodecs:<id>`` specs). It
  depends on the codec contract only, and the registry (``codecbench.plugins``) imports it;
- ``numcodecs``: the public module: the adapter re-exported, plus codecbench codecs exported to
  numcodecs and Zarr (``as_numcodecs``, the ``export_<id>`` targets of numcodecs' entry points).
  It uses the registry, so it sits above it.

The import contracts in ``pyproject.toml`` place the two on their own levels.
"""
