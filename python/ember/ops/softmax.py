"""ember.ops softmax, log-softmax, cross-entropy and NLL kernels (to be written)."""
__all__: list = []
