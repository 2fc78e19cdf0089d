"""Autoencoder codecs: ``ae`` (latent compression, the Baler tool's method) and ``sae`` (sparse latent).

Importing this package does not import torch; the codec modules do (the ``ml`` extra).
"""
