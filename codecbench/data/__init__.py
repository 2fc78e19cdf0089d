"""Datasets: the registry, where files come from, how they are read, generated and described.

- ``registry``: the packaged ``datasets.yaml`` merged with a user registry file, read through
  ``yamlsafe`` (bounded: no YAML bomb); ``entries`` validates one entry, ``options`` its loader options;
- ``load``: ``load_dataset`` (generated, file-backed or derived entries, cast to the entry's dtype);
- ``files``: the search path, the user cache, lookup and download on demand; ``checksums``: sha256 /
  md5 verification, remembered per process; ``download``: streamed, checksummed, atomic downloads;
- ``loaders``: the file readers (npz, npy, ROOT, CSV, HDF5, netCDF-4), with ``rootio`` (ROOT trees:
  branches, counters, dtypes) and ``netcdf``; ``names``: picking names by pattern; ``transforms``:
  derived views;
- ``synthetic`` and ``pythia``: the generators; ``quality``: data-quality facts per column;
- ``catalog``: the summaries ``list datasets`` and ``datasets info`` print.

Nothing here knows a codec or a run: ``codecbench.runner`` and ``codecbench.archive`` call in.
The ``Dataset`` model itself is part of the codec contract (``codecbench.dataset``).
"""
