"""Measuring a reconstruction against its original: errors, declared bounds, time and memory.

- ``metrics``: sizes and ratios, per-variable residual and response statistics, overall error norms,
  bit-exact comparison (Baler's definitions);
- ``bounds``: the check of a codec's ``declared_bound()`` on every value;
- ``timing``: warm-up, repeats, medians and minima of wall and CPU time, peak traced memory;
- ``jets``: jet kinematics (energy, four-vectors, leading-pair mass) computed from a table's columns.

Every function takes arrays and returns numbers or JSON-serialisable dicts: nothing here knows a
codec, a dataset registry or a run.
"""
