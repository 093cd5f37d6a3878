"""One figure style for the whole course."""

from __future__ import annotations

import matplotlib.pyplot as plt

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
    """Apply the course style to matplotlib (and, in a notebook, to its inline figures)."""
    plt.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing more to set
        return
    shell = get_ipython()
    if shell is not None and "InlineBackend" in shell.config:
        # figure() lays panels out with constrained_layout, so the inline backend's
        # bbox_inches="tight" (a second full draw of every figure) buys nothing
        shell.run_line_magic("config", "InlineBackend.print_figure_kwargs = {'bbox_inches': None}")


def figure(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.2):
    """A styled (fig, axes) grid; axes is a flat list, even for one panel."""
    if ncols < 1 or nrows < 1:
        raise ValueError(f"ncols, nrows: expected integers >= 1, got {ncols}, {nrows}")
    use_style()
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
