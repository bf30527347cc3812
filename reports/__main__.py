"""``python -m reports`` is the ``resnet-ode`` command line."""

import sys

from reports.cli import main

sys.exit(main())
