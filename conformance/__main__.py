"""`python -m conformance`: the conformance runner's entry point.

The scenarios and the runner that points them at a server arrive with the conformance issue;
until then this says so and succeeds, so that `scripts/conformance` and `tox -e conformance`
already work end to end.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the conformance suite; returns the process exit status."""
    print("conformance: there are no scenarios yet (they come with the conformance issue).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
