"""ember.nn.functional: loss functions (except cross_entropy/nll_loss, in _softmax.py) (to be written)."""
__all__: list = []
