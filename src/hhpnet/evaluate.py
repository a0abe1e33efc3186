"""Old path of :mod:`hhpnet.training.evaluate`: the same module object under both names
(every name and monkeypatching work through either)."""

import sys

from hhpnet.training import evaluate as _moved

sys.modules[__name__] = _moved
