"""Helpers shared by several codec families: the versioned body, bounded pcodec/zstd coders, column statistics."""
