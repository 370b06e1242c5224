"""The differentiable primitives. Everything else in the package is composed from these.

Each is a :class:`~aigc_course.autograd.Function` with ``forward`` on numpy arrays and
``backward`` written with Tensor operations (so it can itself be differentiated). The
derivative is stated in each docstring, in the notation of chapter 2: for an output ``z``,
``dz`` is the incoming gradient, and ``dx`` the gradient for input ``x``.
"""
