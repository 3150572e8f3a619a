"""server/his imports neither Flask, SQLAlchemy nor pydantic, not even through the project.

Importing any `server.*` module runs server/__init__.py, which imports Flask, so the rule is
checked on the source: server/his may import the standard library, itself and server.clock only.
"""

import ast
from pathlib import Path

HIS = Path(__file__).resolve().parents[2] / "server" / "his"
ALLOWED_PROJECT_MODULES = {"server.clock"}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_server_his_imports_only_the_standard_library_itself_and_the_clock():
    files = sorted(HIS.glob("*.py"))
    assert len(files) >= 7
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            assert top not in {"flask", "sqlalchemy", "pydantic", "werkzeug"}, (path, module)
            if top == "server":
                assert module.startswith("server.his") or module in ALLOWED_PROJECT_MODULES, (
                    path,
                    module,
                )


def test_the_clock_it_borrows_is_pure_too():
    clock = HIS.parent / "clock.py"
    assert all(m.split(".")[0] != "server" for m in imported_modules(clock))
