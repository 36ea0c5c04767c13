import sys

from zoo.runner.child import main

sys.exit(main())
