"""The operations, one topic per file. Each file holds, for each of its ops, the argument
checks, the type promotion, the differentiable :class:`~aigc_course.autograd.Function`
(forward beside backward, the derivative in its docstring) and the public function that
``Tensor``'s method and ``aigc_course.<name>`` both are: ``tensor_methods.py`` binds them onto
the class from one table. In-place forms live together in ``inplace.py``.

Imports run one way: ``tensor_methods`` -> the topic files -> ``aigc_course._tensor`` and
``aigc_course.autograd``. Everything else in the package is composed from these.
"""
