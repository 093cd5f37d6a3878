"""One figure style for the whole course."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt

from helpers import checks

COLORS = {"sheet": "#d62728", "correct": "#1f77b4", "reference": "#7f7f7f",
          "chosen": "#2ca02c", "rejected": "#ff7f0e", "accent": "#9467bd"}

STYLE = {
    "figure.dpi": 80,
    "figure.figsize": (6.0, 3.6),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
}


def use_style() -> None:
    """Apply the course style to matplotlib and, in a notebook, to its inline figures.

    The one call that changes matplotlib's settings: each notebook's setup cell makes it.
    """
    plt.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing more to set
        return
    backend = matplotlib.get_backend()
    if get_ipython() is None or "inline" not in backend:
        return
    plt.switch_backend(backend)  # loads the inline backend now, so that it can be configured
    # figure() lays panels out with constrained_layout, so the inline backend's
    # bbox_inches="tight" (a second full draw of every figure) buys nothing
    get_ipython().run_line_magic("config", "InlineBackend.print_figure_kwargs = {'bbox_inches': None}")


def figure(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.2):
    """A (fig, axes) grid with constrained layout; axes is a flat list, even for one panel.

    The style comes from use_style(), called once in the setup cell.
    """
    checks.require_ints(ncols=(ncols, 1), nrows=(nrows, 1))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                             squeeze=False, constrained_layout=True)
    return fig, [ax for row in axes for ax in row]


def label(ax, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    """Title, axis labels and (if any line is labelled) a legend."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend()
