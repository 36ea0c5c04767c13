"""Line plots of result tables, written as PNG (matplotlib, no pyplot state).

    from zoo import plots
    plots.line_plot(table, x="length", y="train ms", group="model",
                    path="results/speed_train.png", log=True, fit=True)

`Figure` is used directly instead of `pyplot`, so plotting never touches a
user's interactive backend and works on headless machines.
"""

import math

import numpy as np
from matplotlib.figure import Figure


def fit_exponent(x, y):
    """Slope of log(y) against log(x): y grows like x ** slope. NaN under 2 points."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if np.unique(x[keep]).size < 2:
        return float("nan")
    slope, _ = np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)
    return float(slope)


def line_plot(table, x, y, group, path, *, yerr=None, log=False, fit=False,
              title=None, xlabel=None, ylabel=None, hline=None, hline_label=None):
    """One line per value of column `group`: `y` against `x`, saved to `path`.

    yerr: a column of error-bar half-widths (e.g. the std over seeds).
    log: log-log axes (else only x is logarithmic when it spans > 10x).
    fit: put the fitted exponent of y ~ x**k in each line's label.
    hline: a reference level (e.g. a task's baseline), drawn dashed.
    Returns the fitted exponents `{group value: k}` (empty without `fit`).
    """
    figure = Figure(figsize=(6.4, 4.2), dpi=110)
    axes = figure.subplots()
    exponents = {}
    for name, rows in table.groupby(group, sort=True):
        rows = rows.sort_values(x)
        label = str(name)
        if fit:
            exponents[name] = fit_exponent(rows[x], rows[y])
            if not math.isnan(exponents[name]):
                label += f" (~ {x}^{exponents[name]:.2f})"
        errors = rows[yerr] if yerr is not None and yerr in rows else None
        axes.errorbar(rows[x], rows[y], yerr=errors, marker="o", markersize=4,
                      capsize=3, label=label)
    if hline is not None:
        axes.axhline(hline, color="grey", linestyle="--", linewidth=1, label=hline_label)
    values = table[x].astype(float)
    if log or (len(values) and values.min() > 0 and values.max() / values.min() > 10):
        axes.set_xscale("log")
    if log:
        axes.set_yscale("log")
    axes.set_xlabel(xlabel or x)
    axes.set_ylabel(ylabel or y)
    if title:
        axes.set_title(title, fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    # No "Software" stamp: the same table gives the same file bytes.
    figure.savefig(path, metadata={"Software": None})
    return exponents
