"""ember.nn.functional: pooling (max/avg/adaptive/unpool, 1-D and 2-D) (to be written)."""
__all__: list = []
