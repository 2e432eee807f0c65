"""``storewatch`` as a process, with the tests' detector double instead of the model: the multi-process tests run
``python -m tests.sync.edge_main edge SITE.yaml --hub ...`` so that the fake never enters the product's code."""

from __future__ import annotations

import sys

import storewatch.analysis.tracking as tracking
from storewatch.cli.app import main
from tests.helpers import CountingDetector

if __name__ == "__main__":
    tracking.open_detector = lambda config: CountingDetector()  # type: ignore[assignment,return-value]
    sys.exit(main(sys.argv[1:]))
