import sys

from ember.bench import main

sys.exit(main())
