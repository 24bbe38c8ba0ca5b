"""ember.nn: neural-network building blocks with PyTorch's names (``torch.nn``)."""
from ember.nn import functional
