"""Self-contained compressed archives (``.cbz``): what ``codecbench compress`` writes and ``decompress`` reads.

An archive holds one or more *entries*, one per compressed array (an npz array, an HDF5 dataset,
a group of ROOT branches, a registered dataset). For each entry it keeps everything a fresh
process needs to decode it: the framed payload, the codec config, the decoder state of a learned
codec, the column names and units, the per-event object counts of jagged ROOT input, and the
source's metadata; plus an error summary measured at compression time (by decoding the payload
through a fresh codec built from the stored config and state, exactly as ``decompress`` will).

- ``format``: the format itself (documented there), its constants and ``ArchiveError``;
- ``manifest``: the manifest's checks (every field's type, every member's bound) before anything
  trusts it; ``members``: one member read in blocks, never past its listed size;
- ``encode``: one array -> one entry; ``writer``: entries -> a ``.cbz`` file;
- ``reader``: ``open_archive``, which verifies every member; ``decoder``: ``Archive``, the
  verified archive's entries decoded;
- ``workflow``: ``compress_input`` and ``decompress_archive``, the two commands as functions;
  ``verify``: ``inspect --verify``, the stored error summary recomputed by decoding;
- ``files``: user files in and out (``read_input``, ``write_output``), through ``npz``, ``hdf5`` and
  ``root``; ``items``: ``ArrayItem``, one array with its facts.

The names below are this package's public API.
"""

from codecbench.archive.decoder import Archive
from codecbench.archive.encode import encode_item
from codecbench.archive.files import read_input, write_output
from codecbench.archive.format import FORMAT_VERSION, ArchiveError
from codecbench.archive.items import ArrayItem
from codecbench.archive.reader import open_archive
from codecbench.archive.workflow import compress_input, decompress_archive
from codecbench.archive.writer import EncodedEntry, write_archive

__all__ = [
    "FORMAT_VERSION",
    "Archive",
    "ArchiveError",
    "ArrayItem",
    "EncodedEntry",
    "compress_input",
    "decompress_archive",
    "encode_item",
    "open_archive",
    "read_input",
    "write_archive",
    "write_output",
]
