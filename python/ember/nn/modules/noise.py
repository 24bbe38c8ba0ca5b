"""ember.nn: GaussianNoise (layers engineer) (to be written)."""
__all__: list = []
