"""Old path of :mod:`hhpnet.video.sources`: the same module object under both names
(every name and monkeypatching work through either)."""

import sys

from hhpnet.video import sources as _moved

sys.modules[__name__] = _moved
