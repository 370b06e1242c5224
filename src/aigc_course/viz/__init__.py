"""Figures for the book, drawn with matplotlib only (no graphviz binary needed).

Each figure function lives in a submodule of this package and is re-exported here.
"""

from .graph import draw_graph, trace_graph  # chapter 2
from .modules import (  # chapter 3
    plot_decision_regions,
    plot_softmax_overflow,
    plot_weight_histograms,
    toy_spirals,
)
from .tensors import plot_boolean_mask, plot_broadcasting, plot_memory_layout  # chapter 1
