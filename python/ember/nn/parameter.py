"""ember.nn.Parameter (to be written)."""
__all__: list = []
