import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import plots  # noqa: E402


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
