"""ember.nn: Module, the base class (core engineer) (to be written)."""
__all__: list = []
