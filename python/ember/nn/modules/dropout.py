"""ember.nn: Dropout family (layers engineer) (to be written)."""
__all__: list = []
