"""Plain-NumPy twins of the ember.ops convolution (conv1d, conv2d, conv_transpose2d) kernels (to be written)."""
__all__: list = []
