"""ember.nn: Flatten, Unflatten (core engineer) (to be written)."""
__all__: list = []
