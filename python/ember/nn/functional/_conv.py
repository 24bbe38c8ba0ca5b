"""ember.nn.functional: convolution (conv1d, conv2d, conv_transpose2d) (to be written)."""
__all__: list = []
