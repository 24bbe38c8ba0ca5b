"""ember.nn.functional: activation functions (to be written)."""
__all__: list = []
