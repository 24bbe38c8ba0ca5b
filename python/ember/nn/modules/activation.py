"""ember.nn: activation modules (layers engineer) (to be written)."""
__all__: list = []
