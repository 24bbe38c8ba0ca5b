"""ember.nn: loss modules (layers engineer) (to be written)."""
__all__: list = []
