"""``python -m hhpnet.bench``: see :func:`hhpnet.bench.main`."""

import sys

from hhpnet.bench import main

sys.exit(main())
