"""Old path of :mod:`hhpnet.training.generator_fit`: the same module object under both names
(every name and monkeypatching work through either)."""

import sys

from hhpnet.training import generator_fit as _moved

sys.modules[__name__] = _moved
