"""Lossless codecs: raw (identity baseline), gzip, zstd, blosc."""
