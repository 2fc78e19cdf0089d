"""Results read back: leaderboards, budgets, comparisons between runs, plots and the HTML report.

- ``frame``: records -> one row per measurement -> one row per setting (repeats, result dirs);
- ``leaderboard``: the sorted leaderboard with the Pareto front; ``budgets``: best setting within
  error budgets; ``bd``: the Bjontegaard-style ratio gain between two rate-distortion curves;
- ``compare``: two runs setting by setting, regressions flagged;
- ``text``: number formatting and Markdown/HTML/LaTeX tables; ``render``: the leaderboard as text;
- ``plots``: rate-distortion figures and one record's histograms (matplotlib, imported on use);
- ``report``: one self-contained HTML page.

Everything reads stored records (``codecbench.runner.store``) and returns DataFrames or text; only
``plots.reconstruct`` runs a codec again (to draw a record's residuals).
"""
