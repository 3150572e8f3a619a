"""`python -m bench [name ...]`: run every benchmark module (bench/<name>.py with a main())."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

SKIP = {"bare_app", "thin_app", "__main__"}


def main(argv: list[str]) -> None:
    here = Path(__file__).parent
    names = argv or sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name not in SKIP)
    names.sort(key=lambda name: name == "aims")  # the aims read what the others wrote: last
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n## bench/{name}.py\n")
        module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
