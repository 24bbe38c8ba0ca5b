"""ember.nn.functional: embedding, one_hot (to be written)."""
__all__: list = []
