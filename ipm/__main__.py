"""``python -m ipm`` is the ``ipm`` command (:mod:`ipm.cli`)."""

import sys

from .cli import main

sys.exit(main())
