"""ember.ops: ember's C++ kernels as plain functions, NumPy arrays in and out.

Course code written against NumPy can call these in place of its own loops. Each function
validates its arguments, picks the dtype (float32 or float64) and calls the compiled kernel with
the GIL released. ``ember.ops.reference`` has a plain-NumPy twin of every function.
One file per kernel family; each lists its public names in ``__all__``.
"""
from ember.ops.matmul import matmul
from ember.ops.conv import *  # noqa: F401,F403
from ember.ops.pool import *  # noqa: F401,F403
from ember.ops.rnn import *  # noqa: F401,F403
from ember.ops.softmax import *  # noqa: F401,F403
from ember.ops import reference
