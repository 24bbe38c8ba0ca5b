"""ember.nn.functional: recurrent cells (LSTM, GRU, Elman RNN) and whole sequences (to be written)."""
__all__: list = []
