"""Uniform scalar quantization to a declared bound: ``quant`` (per column; the integers coded by pcodec or zstd)."""
