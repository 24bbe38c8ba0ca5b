"""ember.nn.functional: dropout family (to be written)."""
__all__: list = []
