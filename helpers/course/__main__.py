"""`python -m helpers.course VERB ...`: the same as `rlhf-course VERB ...`."""

import sys

from helpers.course.cli import main

sys.exit(main())
