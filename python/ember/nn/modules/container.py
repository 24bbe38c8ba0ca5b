"""ember.nn: Sequential, ModuleList, ModuleDict (core engineer) (to be written)."""
__all__: list = []
