"""ember.utils: data loading (``ember.utils.data``) and training helpers."""
from ember.utils import data
