"""Plots of stored results (matplotlib, ``pip install 'codecbench[plot]'``, imported only when drawing).

- ``figure``: slide-sized figures without pyplot, saved as PNG and PDF;
- ``rate_distortion``: effective ratio against worst ``rel_rms`` per dataset;
- ``reconstruct``: re-runs one record to get its original and reconstructed arrays;
- ``record``: that record's distributions, residuals, responses, field slices and jet quantities.
"""
