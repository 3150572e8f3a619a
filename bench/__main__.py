"""`python -m bench [name ...]`: run every benchmark module (bench/<name>.py with a main()), or
the ones named. The scale run (bench/scale.py: a million insured persons, minutes of filling and
gigabytes of disk) runs only when named or with BENCH_SCALE=1."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path

SKIP = {"bare_app", "thin_app", "gunicorn_bench", "__main__"}
ON_REQUEST = {"scale"}  # run when named, or with BENCH_SCALE=1


def main(argv: list[str]) -> None:
    here = Path(__file__).parent
    skip = SKIP if os.environ.get("BENCH_SCALE", "") in {"1", "true", "yes"} else SKIP | ON_REQUEST
    names = argv or sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name not in skip)
    names.sort(key=lambda name: name == "aims")  # the aims read what the others wrote: last
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "main"):  # a helper (gunicorn_bench.py is a gunicorn config)
            continue
        print(f"\n## bench/{name}.py\n")
        module.main()
    if not argv and "scale" in skip:
        print(
            "\nbench/scale.py not run (minutes, gigabytes): run `python -m bench scale`"
            " or set BENCH_SCALE=1"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
