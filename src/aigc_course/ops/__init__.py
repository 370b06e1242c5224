"""The operations, one topic per file. Each file holds, for each of its ops, the argument
checks, the type promotion, the differentiable :class:`~aigc_course.autograd.Function`
(forward beside backward, the derivative in its docstring) and the public function that
``Tensor``'s method and ``aigc_course.<name>`` both are.

Everything else in the package is composed from these.
"""
