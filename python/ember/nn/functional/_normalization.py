"""ember.nn.functional: batch_norm, layer_norm, group_norm (to be written)."""
__all__: list = []
