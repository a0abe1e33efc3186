"""Old path of :mod:`hhpnet.draw.interaction`: the same module object under both names
(every name and monkeypatching work through either)."""

import sys

from hhpnet.draw import interaction as _moved

sys.modules[__name__] = _moved
