"""ember.nn.utils (to be written)."""
