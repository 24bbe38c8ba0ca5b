"""ember.nn: Embedding (core engineer) (to be written)."""
__all__: list = []
