"""ember.nn: neural-network building blocks with PyTorch's names (``torch.nn``)."""
from ember.nn import functional, init, utils
from ember.nn.parameter import *  # noqa: F401,F403
from ember.nn.modules import *  # noqa: F401,F403
