"""ember.ops pooling (max/avg/adaptive/unpool, 1-D and 2-D) kernels (to be written)."""
__all__: list = []
