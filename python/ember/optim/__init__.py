"""ember.optim: optimisers and learning-rate schedules with PyTorch's names (to be written)."""
