"""Print the parameter-count rows of tests/data/params/<family>.csv for the current code.

Use only after deliberately changing an architecture, and check every count by hand against the
reference value (the reference code's own count, or the published figure for a reconstruction)
before committing: the CSVs are what CI holds the zoo to.

    python scripts/record_params.py threshnet > tests/data/params/threshnet.csv
"""

from __future__ import annotations

import sys

import zoo
from zoo.fingerprint import count_params, shape_fingerprint


def main(family: str) -> None:
    print("name,num_classes,params,shapes")
    for name in zoo.list_models(family=family):
        built = zoo.build_model(name)
        print(f"{name},{built.num_classes},{count_params(built.module)},{shape_fingerprint(built.module)}")


if __name__ == "__main__":
    main(sys.argv[1])
