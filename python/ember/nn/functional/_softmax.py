"""ember.nn.functional: softmax, log-softmax, cross-entropy and NLL (to be written)."""
__all__: list = []
