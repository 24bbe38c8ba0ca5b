"""ember.nn: BatchNorm, LayerNorm, GroupNorm (layers engineer) (to be written)."""
__all__: list = []
