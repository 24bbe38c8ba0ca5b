"""Plain-NumPy twins of the ``ember.ops`` kernels, with the same signatures.

They are the oracle for the tests and the NumPy baseline in the benchmarks: each is the
straightforward (and, where measured, the fastest idiomatic) NumPy form of the same math.
One file per kernel family; each lists its public names in ``__all__``.
"""
from ember.ops.reference._matmul import *  # noqa: F401,F403
from ember.ops.reference._conv import *  # noqa: F401,F403
from ember.ops.reference._pool import *  # noqa: F401,F403
from ember.ops.reference._rnn import *  # noqa: F401,F403
from ember.ops.reference._softmax import *  # noqa: F401,F403
