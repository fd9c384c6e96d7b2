"""ARCHITECTURE.md's import rule, enforced: nothing imports upward, and only a processor's own package
knows its payloads."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings

from integrations.processors.registry import ADAPTERS

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


# Where a processor's name is data rather than knowledge of it: the registry's one line per adapter (every
# list of processors reads it); old migrations recorded those choices.
NAMES_EVERY_PROCESSOR = {"integrations/processors/registry.py"}
# The operator's own Stripe account, as the platform of affiliate payouts (`STRIPE_PAYOUTS_API_KEY`): a
# payout method, not a processor connection, and it reads no processor's payloads. The affiliates app and
# its pages, and the settings that configure that account, may name it. The same account also bills
# TrackRev's own Pro plan (trackrev/workspaces/billing/: Checkout, its subscription webhooks): TrackRev's
# own billing, not a customer's processor connection.
OPERATOR_ACCOUNT = {
    "stripe": ("affiliates/", "templates/affiliates/", "trackrev/settings/", "trackrev/workspaces/billing/")
}


@pytest.mark.parametrize("key", sorted(ADAPTERS))
def test_no_module_outside_a_processors_package_names_that_processor(key):
    """Its payloads, signatures, options, pace, repairs and setup steps live in
    `integrations/processors/<key>/`: adding a processor touches that package and one registry line; no
    shared page or script names it either. A host name (a referrer such as `polar.sh`) is
    a site the channel rules know, not the processor."""
    package = ROOT / "integrations" / "processors" / key
    name = re.compile(rf"\b(?:{re.escape(key)}|{re.escape(ADAPTERS[key].display_name)})\b(?!\.[a-z])", re.I)
    code = [path for app in MAY_IMPORT for path in sorted((ROOT / app).rglob("*.py"))]
    pages = [
        path for pattern in ("templates/**/*.html", "trackrev/static/**/*.*") for path in sorted(ROOT.glob(pattern))
    ]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in code + pages
        if not path.is_relative_to(package)
        and "migrations" not in path.parts
        and str(path.relative_to(ROOT)) not in NAMES_EVERY_PROCESSOR
        and not str(path.relative_to(ROOT)).startswith(OPERATOR_ACCOUNT.get(key, ()))
        and path.suffix in (".py", ".html", ".js", ".css")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if name.search(line)
    ]

    assert offenders == []
