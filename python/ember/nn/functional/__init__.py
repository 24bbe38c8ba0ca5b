"""ember.nn.functional: differentiable ops on Tensors with PyTorch's names, signatures and
defaults (``import ember.nn.functional as F``).

One file per family; each lists its public names in ``__all__``. The heavy kernels run in C++
through autograd Functions in ``ember._functions``; the rest is NumPy.
"""
from ember.nn.functional._conv import *  # noqa: F401,F403
from ember.nn.functional._pool import *  # noqa: F401,F403
from ember.nn.functional._rnn import *  # noqa: F401,F403
from ember.nn.functional._softmax import *  # noqa: F401,F403
from ember.nn.functional._activation import *  # noqa: F401,F403
from ember.nn.functional._loss import *  # noqa: F401,F403
from ember.nn.functional._dropout import *  # noqa: F401,F403
from ember.nn.functional._normalization import *  # noqa: F401,F403
from ember.nn.functional._sparse import *  # noqa: F401,F403
from ember.nn.functional._linear import *  # noqa: F401,F403
from ember.nn.functional._vision import *  # noqa: F401,F403
from ember.nn.functional._attention import *  # noqa: F401,F403
