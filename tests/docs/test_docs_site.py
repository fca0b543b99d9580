"""The repository carries its own documents: docs/ builds as a site with no broken link or anchor, every
citation of a document in code, tests and /schema points into docs/ and resolves there, and nothing speaks
of how Roomlink was made rather than of Roomlink."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Where code, tests and tooling live; their comments and docstrings may cite the documents.
SOURCES = ("server", "domain", "persistence", "tests", "ops", ".ci", "piccolo_conf.py", "pyproject.toml", "mkdocs.yml")
SOURCE_SUFFIXES = {".py", ".js", ".html", ".css", ".toml", ".yml", ".yaml", ".json", ".md", ""}
CITATION = re.compile(r"docs/([a-z_-]+\.md)(?:#([a-z0-9_-]+))?")
#: The documents that lived outside the repository; a citation of one may only be a docs/ path.
OUTSIDE_DOCUMENT = re.compile(r"(?<![\w/])(DESIGN|API|STYLE)\.md")
#: Words about how the product was made, not about the product (spelled in pieces, so this file has none).
DIARY = re.compile("|".join([r"\bstop 1?[0-9]\b", "steer" + "ing repo", "help" + r"ers?.? (suite|report|load)",
                             "this shared " + "2-core machine"]), re.I)


def repository_files() -> list[Path]:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    files = [ROOT / name for name in tracked.splitlines()]
    # Files of this change not yet committed count too.
    untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    files += [ROOT / name for name in untracked.splitlines()]
    return [path for path in files if path.is_file() and path.suffix in SOURCE_SUFFIXES | {".md", ".png"}]


def source_files() -> list[Path]:
    return [
        path for path in repository_files()
        if path.relative_to(ROOT).parts[0] in SOURCES and path.suffix in SOURCE_SUFFIXES
    ]


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)


@cache
def built_site(tmp: str) -> Path:
    site = Path(tmp) / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return site


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return built_site(str(tmp_path_factory.mktemp("docs")))


def anchors_of(site: Path, document: str) -> set[str]:
    page = site / document.removesuffix(".md") / "index.html"
    if document == "index.md":
        page = site / "index.html"
    assert page.exists(), f"docs/{document} is not a page of the site"
    parser = _Ids()
    parser.feed(page.read_text())
    return parser.ids


def test_the_site_builds_in_strict_mode_so_a_broken_link_or_anchor_fails(site, tmp_path):
    assert {"r1", "r7", "r24", "r30", "architecture", "security"} <= anchors_of(site, "design.md")
    assert (site / "api" / "index.html").exists() and (site / "benchmarks" / "index.html").exists()
    # Strict mode does fail on a broken anchor: the same build of a copy with one breaks.
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", str(DOCS), str(broken)], check=True)
    (broken / "index.md").write_text((broken / "index.md").read_text() + "\nSee [R99](design.md#r99).\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text((ROOT / "mkdocs.yml").read_text().replace("docs_dir: docs", f"docs_dir: {broken}"))
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d",
                           str(tmp_path / "out")], capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode != 0 and "r99" in done.stdout + done.stderr


def test_every_rule_has_its_anchor_in_the_design():
    design = (DOCS / "design.md").read_text()
    for number in range(1, 31):
        assert re.search(rf"^### R{number} .*\{{#r{number}\}}$", design, re.MULTILINE), f"R{number}"
    assert "not yet available" in design.lower()


def test_code_and_tests_cite_only_documents_in_the_repository(site):
    outside, unresolved = [], []
    for path in source_files():
        text = path.read_text(errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"{path.relative_to(ROOT)}:{number}"
            if OUTSIDE_DOCUMENT.search(line) and "OUTSIDE_DOCUMENT" not in line:
                outside.append(f"{where}: {line.strip()}")
            for document, anchor in CITATION.findall(line):
                if not (DOCS / document).exists():
                    unresolved.append(f"{where}: docs/{document}")
                elif anchor and anchor not in anchors_of(site, document):
                    unresolved.append(f"{where}: docs/{document}#{anchor}")
    assert not outside, "documents outside the repository are cited:\n" + "\n".join(outside)
    assert not unresolved, "citations that do not resolve in docs/:\n" + "\n".join(unresolved)


def test_the_api_document_explains_the_rules_it_cites(site):
    from server.app import create_app
    from server.config import Settings

    document = json.dumps(create_app(Settings()).openapi_schema.to_schema())
    cited = set(re.findall(r"\bR(\d{1,2})\b", document))
    assert cited, "the API document cites no rule: this test would prove nothing"
    assert "docs/design.md" in document and not OUTSIDE_DOCUMENT.search(document)
    design_anchors = anchors_of(site, "design.md")
    assert {f"r{number}" for number in cited} <= design_anchors


def test_nothing_in_the_repository_speaks_of_how_it_was_made():
    found = []
    for path in repository_files():
        if path.suffix == ".png":
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            if DIARY.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not found, "\n".join(found)


def test_the_readme_is_for_users_and_its_links_resolve():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    assert "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest" in readme
    assert "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/roomlink demo" in readme
    links = re.findall(r"\]\(((?:docs/)[^)#]+)", readme)
    assert "docs/images/owner-zoom-page.png" in links
    for link in links:
        assert (ROOT / link).exists(), link


def site_home_from(readme: str) -> str:
    """The site's home is the README with its links made relative to docs/."""
    return readme.replace("](docs/", "](").replace("see docs/operating.md", "see operating.md").replace(
        "The same pages are a site: `pip install -e '.[docs]' && mkdocs serve` (or `mkdocs build --strict`).",
        "These pages are built with `pip install -e '.[docs]' && mkdocs build --strict` (or `mkdocs serve`).",
    )


def test_the_sites_home_says_what_the_readme_says():
    assert (DOCS / "index.md").read_text() == site_home_from((ROOT / "README.md").read_text())


def test_every_setting_roomlink_reads_is_in_the_operating_guide():
    read = set()
    for path in source_files():
        if path.relative_to(ROOT).parts[0] in ("server", "persistence", "piccolo_conf.py") and path.suffix == ".py":
            read |= set(re.findall(r"environ(?:\.get)?[(\[]\s*\"([A-Z][A-Z0-9_]+)\"", path.read_text()))
    assert {"DATABASE_URL", "ROOMLINK_TOKEN_KEYS", "ROOMLINK_BASE_URL"} <= read, "the settings were not found"
    guide = (DOCS / "operating.md").read_text()
    assert "ROOMLINK_TRUSTED_PROXIES" in guide
    assert sorted(name for name in read if f"`{name}`" not in guide) == []
