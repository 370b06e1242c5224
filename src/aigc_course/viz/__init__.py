"""Figures for the book, drawn with matplotlib only (no graphviz binary needed).

Each figure function lives in a submodule of this package and is re-exported here.
"""
