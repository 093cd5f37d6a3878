"""One figure style for the whole course."""

from __future__ import annotations

import math

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
    # figure() gives every panel fixed margins, so the inline backend's bbox_inches="tight"
    # (a second full draw of every figure) buys nothing
    get_ipython().run_line_magic("config", "InlineBackend.print_figure_kwargs = {'bbox_inches': None}")


# Margins of every panel, in inches, at the course's font size: room for tick labels and an axis
# label on the left and below, a title above. Fixed margins cost one draw per figure; a layout
# engine (constrained or tight) measures every label first and doubles the cost of each figure.
MARGINS = {"left": 0.75, "right": 0.2, "bottom": 0.55, "top": 0.35}


# At most this many intervals between the labelled ticks of a linear axis (matplotlib's default
# fits up to 9 on a 4-inch panel). Every tick is three lines and two texts, built and drawn anew
# in each figure: the largest part of drawing one; 4-6 labelled ticks read as well at this size.
TICK_INTERVALS = 5


def figure(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.2):
    """A (fig, axes) grid of panels width × height inches each; axes is a flat list, even for one.

    Each panel keeps MARGINS around its axes, so titles, tick labels and axis labels do not
    overlap, and at most TICK_INTERVALS intervals between the ticks of a linear axis (a log
    axis: see decades). The style comes from use_style(), called once in the setup cell.
    """
    checks.require_ints(ncols=(ncols, 1), nrows=(nrows, 1))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    for ax in axes.flat:
        ax.locator_params(nbins=TICK_INTERVALS)
    inner_w = width - MARGINS["left"] - MARGINS["right"]     # one axes' size, in inches
    inner_h = height - MARGINS["bottom"] - MARGINS["top"]
    fig.subplots_adjust(left=MARGINS["left"] / (width * ncols),
                        right=1 - MARGINS["right"] / (width * ncols),
                        bottom=MARGINS["bottom"] / (height * nrows),
                        top=1 - MARGINS["top"] / (height * nrows),
                        wspace=(MARGINS["left"] + MARGINS["right"]) / inner_w,
                        hspace=(MARGINS["bottom"] + MARGINS["top"]) / inner_h)
    return fig, [ax for row in axes for ax in row]


def label(ax, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    """Title, axis labels and (if any line is labelled) a legend.

    The title sits at the top of the axes (y = 1), in the fixed top margin of figure(): placed
    automatically, matplotlib would measure every tick label once more at each draw to check that
    nothing above the axes is in its way, and nothing ever is (no top ticks, no offset text).
    The course writes its labels in plain Unicode (π_ref, r̂_w, ‖E[ĝ]‖), not mathtext ($...$),
    whose parser matplotlib builds afresh in every kernel (about 0.2 s) before parsing each label.
    """
    ax.set_title(title, y=1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend()


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(value: float, _pos=None) -> str:
    """'10⁻³' for 1e-3: a decade's tick label in plain text ('0.2' for a value between decades)."""
    checks.require_positive("value", value)
    exponent = round(math.log10(value))
    if not math.isclose(value, 10.0**exponent):
        return f"{value:g}"
    return "10" + str(exponent).translate(_SUPERSCRIPTS)


def decades(ax) -> None:
    """One labelled tick a decade on each log-scaled axis of ax (10⁻², 10⁻¹, ...), no minor ticks.

    Call it after setting the scale. matplotlib's own labels are mathtext, parsed afresh in every
    figure, and its unlabelled minor ticks are built one by one: a large part of a log figure's
    drawing time, for the same numbers.
    """
    ax.minorticks_off()
    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() == "log":
            axis.set_major_formatter(power_of_ten)
