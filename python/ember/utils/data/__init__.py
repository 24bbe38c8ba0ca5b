"""ember.utils.data: datasets, samplers and DataLoader with PyTorch's names (to be written)."""
