"""``python tests/helpers/cli_driver.py ARGS``: the real ``hhpnet`` command line in its own process,
with the test estimator (blob detector + geometric model) so that a clip of synthetic people
is processed fast and deterministically; ``HHPNET_TEST_FRAME_DELAY`` (seconds) slows every
frame down so that a signal can land in the middle of a run. The interaction analysis is the
real one."""

from __future__ import annotations

import os
import sys
import time

# the repository root, so that ``tests.helpers`` imports when run as a script
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import hhpnet.pipeline
from tests.helpers.fakes import GeometricModel
from tests.helpers.video_fakes import BlobDetector

DELAY = float(os.environ.get("HHPNET_TEST_FRAME_DELAY", "0"))


class SlowBlobDetector(BlobDetector):
    def __call__(self, image):
        time.sleep(DELAY)
        return super().__call__(image)


_real = hhpnet.pipeline.HeadPoseEstimator


def _estimator(model="hhpnet-1.0", detector="blazeface", **kw):
    return _real(model=GeometricModel(), detector=SlowBlobDetector())


hhpnet.pipeline.HeadPoseEstimator = _estimator  # type: ignore[misc]

if __name__ == "__main__":
    from hhpnet.cli import main

    sys.argv[0] = "hhpnet"
    main()
