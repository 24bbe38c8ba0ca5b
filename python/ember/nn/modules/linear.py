"""ember.nn: Identity, Linear, Bilinear (core engineer) (to be written)."""
__all__: list = []
