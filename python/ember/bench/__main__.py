import sys

from ember.bench.cli import main

sys.exit(main())
