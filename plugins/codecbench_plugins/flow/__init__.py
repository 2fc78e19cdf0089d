"""Normalizing-flow codec ``flow``: a masked autoregressive flow with a normal-CDF quantizer.

Importing this package does not import torch; ``codecbench_plugins.flow.flow`` does (the ``ml`` extra).
"""
