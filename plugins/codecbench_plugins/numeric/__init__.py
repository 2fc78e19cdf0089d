"""Lossless coders built for numeric arrays: ``pcodec`` (the pcodec package) and ``openzl`` (Meta's OpenZL).

Both compress a table column by column and keep every bit (NaN payloads and -0.0 included). Each
module imports its library at the top, so a missing library shows in ``codecbench list codecs``
with the extra to install.
"""
