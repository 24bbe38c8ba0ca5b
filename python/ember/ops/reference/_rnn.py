"""Plain-NumPy twins of the ember.ops recurrent cells (LSTM, GRU, Elman RNN) and whole sequences kernels (to be written)."""
__all__: list = []
