import matplotlib

matplotlib.use("Agg")

import re  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import plots  # noqa: E402
from helpers.course import Course, read_notebook  # noqa: E402


def test_use_style_applies_the_style_and_figure_leaves_it_alone():
    with matplotlib.rc_context():
        plt.rcParams["axes.grid"] = False
        fig, axes = plots.figure(ncols=3)  # figure() does not apply the style
        assert plt.rcParams["axes.grid"] is False
        plt.close(fig)
        plots.use_style()
        assert all(plt.rcParams[k] == v for k, v in plots.STYLE.items() if k != "figure.figsize")
        assert tuple(plt.rcParams["figure.figsize"]) == plots.STYLE["figure.figsize"]


def test_figure_returns_flat_axes():
    fig, axes = plots.figure(ncols=3)
    assert len(axes) == 3
    axes[0].plot([0, 1], [0, 1], label="line")
    plots.label(axes[0], "t", "x", "y")
    assert axes[0].get_legend() is not None
    plots.label(axes[1], "t", "x", "y")
    assert axes[1].get_legend() is None
    plt.close(fig)


def test_figure_rejects_bad_grid():
    with pytest.raises(ValueError, match="ncols"):
        plots.figure(ncols=0)


def test_label_puts_the_title_where_automatic_placement_would():
    fig, (fixed, auto) = plots.figure(ncols=2)
    for ax in (fixed, auto):
        ax.semilogy([1, 2, 3], [1e-3, 1e2, 1e5])
    plots.label(fixed, "a title", "x", "y")
    auto.set_title("a title")
    auto.set_xlabel("x")
    auto.set_ylabel("y")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box_fixed, box_auto = fixed.title.get_window_extent(renderer), auto.title.get_window_extent(renderer)
    assert box_fixed.height == box_auto.height and box_fixed.y0 == box_auto.y0
    assert box_fixed.y0 > fixed.get_window_extent(renderer).y1 and box_fixed.y1 < fig.bbox.y1
    plt.close(fig)


def test_power_of_ten_labels_decades_in_plain_text():
    assert [plots.power_of_ten(v) for v in (1e-3, 1.0, 100.0, 1e-15)] == ["10⁻³", "10⁰", "10²", "10⁻¹⁵"]
    assert plots.power_of_ten(0.2) == "0.2"


def test_decades_labels_only_the_log_axes():
    fig, (ax,) = plots.figure()
    ax.semilogy([1, 2, 3], [1e-3, 1.0, 1e2])
    plots.decades(ax)
    fig.canvas.draw()
    low, high = ax.get_ylim()
    labels = [t.get_text() for t in ax.get_yticklabels() if low <= t.get_position()[1] <= high]
    assert labels == ["10⁻³", "10⁻²", "10⁻¹", "10⁰", "10¹", "10²"]
    assert not ax.yaxis.get_minor_ticks()
    assert isinstance(ax.xaxis.get_major_formatter(), matplotlib.ticker.ScalarFormatter)  # linear x
    plt.close(fig)


def test_power_of_ten_rejects_a_value_off_a_log_axis():
    with pytest.raises(ValueError, match="value"):
        plots.power_of_ten(0.0)


def test_notebook_figures_are_labelled_in_plain_text():
    # no $...$ in any code cell: labels are plain Unicode (π_ref, r̂_w, ‖E[ĝ]‖), like power_of_ten's tick
    # labels; matplotlib builds mathtext's parser afresh in every kernel (about 0.2 s) and parses each label
    for path in Course().notebooks():
        code = [c.source for c in read_notebook(path).cells if c.cell_type == "code"]
        mathtext = [m.group() for src in code for m in re.finditer(r"\$[^$\n]+\$", src)]
        assert not mathtext, f"{path.name}: mathtext in figure text {mathtext}"
