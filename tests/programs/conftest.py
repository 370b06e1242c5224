# These are programs run by tests/test_programs.py in subprocesses, not test modules: importing
# one (as --doctest-modules would) would run it.
collect_ignore_glob = ["*.py"]
