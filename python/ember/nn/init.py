"""ember.nn.init (to be written)."""
