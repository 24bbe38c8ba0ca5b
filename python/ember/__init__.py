"""ember: a small, fast, teachable deep-learning library."""
from ember._backend import backend_info, get_num_threads, set_num_threads
from ember import ops

__version__ = "0.1.0"
