"""Layout decisions that a library upgrade or a later edit could silently undo."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_COPY = ROOT / "macros" / "utils" / "get_fixture_sql.sql"
PROJECT_CHANGE = re.compile(r"\n\{#-- Project change:.*?\{#-- End of the project change --#\}\n", re.S)
MODULE_TO_DISTRIBUTION = {"yaml": "PyYAML"}


def macro_body(text: str, name: str) -> str:
    start = text.index("{% macro " + name)
    return text[start : text.index("{% endmacro %}", start)]


def test_get_fixture_sql_is_dbts_own_macro_but_for_the_marked_change():
    """The project's copy of dbt's get_fixture_sql (macros/utils/get_fixture_sql.sql) is pinned to the
    dbt-core version its header names and equals dbt's own macro apart from the marked change."""
    import dbt.include.global_project as global_project

    copy = FIXTURE_COPY.read_text(encoding="utf-8")
    installed = metadata.version("dbt-core")
    pinned = re.search(r"copied from dbt-core (\S+) ", copy)
    assert pinned, "the header of macros/utils/get_fixture_sql.sql must name the dbt-core version it copies"
    assert pinned.group(1) == installed, (
        f"dbt-core {installed} is installed but macros/utils/get_fixture_sql.sql copies {pinned.group(1)}'s macro: "
        "compare dbt's get_fixture_sql with the copy, take dbt's again, re-apply the marked project change and "
        "update the version in the header"
    )
    original = (Path(global_project.__path__[0]) / "macros" / "unit_test_sql" / "get_fixture_sql.sql").read_text(
        encoding="utf-8"
    )
    assert PROJECT_CHANGE.search(copy), "the project change is no longer marked in the copy"
    assert macro_body(PROJECT_CHANGE.sub("", copy), "get_fixture_sql") == macro_body(original, "get_fixture_sql"), (
        f"dbt-core {installed}'s get_fixture_sql differs from the project's copy apart from the marked change: "
        "take dbt's macro again and re-apply the change"
    )


def third_party_imports(folder: Path) -> set[str]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found |= {name.split(".")[0] for name in names}
    return {name for name in found if name not in sys.stdlib_module_names and name != "crm_warehouse"}


def requirement_name(text: str) -> str:
    return re.split(r"[<>=!~; \[]", text.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_pyproject_declares_what_the_package_imports_and_requirements_pin_it():
    declared = {
        requirement_name(item)
        for item in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    imported = {MODULE_TO_DISTRIBUTION.get(name, name).lower() for name in third_party_imports(ROOT / "src")}
    assert imported <= declared, f"src/crm_warehouse imports {sorted(imported - declared)}: add them to pyproject.toml"
    assert declared <= imported, (
        f"pyproject.toml declares {sorted(declared - imported)}, which the package never imports"
    )
    pinned = {
        requirement_name(line)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert declared <= pinned, f"requirements.txt does not pin {sorted(declared - pinned)}"


def test_the_serving_file_reader_has_its_own_module_and_the_old_names_still_work():
    from crm_warehouse import campaign_list, serving_file

    for name in ("ServingFileMissing", "read_sql", "latest_month", "parse_month", "serving_path"):
        assert getattr(campaign_list, name) is getattr(serving_file, name), name


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(text).split("."))


def test_deprecated_mart_columns_name_their_removal_version_and_are_gone_by_then():
    """A deprecated column (meta deprecated: true) names its replacement and the project version that
    removes it (meta removed_in); once dbt_project.yml reaches that version the column must be gone."""
    import yaml

    project_version = version_tuple(yaml.safe_load((ROOT / "dbt_project.yml").read_text())["version"])
    deprecated = []
    for path in sorted((ROOT / "models" / "marts").glob("*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models") or []:
            for column in model.get("columns") or []:
                meta = (column.get("config") or {}).get("meta") or column.get("meta") or {}
                if not meta.get("deprecated"):
                    continue
                where = f"{model['name']}.{column['name']}"
                deprecated.append(where)
                assert meta.get("replaced_by") and meta.get("removed_in"), f"{where}: name replaced_by and removed_in"
                assert project_version < version_tuple(meta["removed_in"]), (
                    f"{where} is deprecated until {meta['removed_in']} and the project is at that version: remove it"
                )
                assert f"Removed in version {meta['removed_in']}" in column["description"], where
    assert {"fct_sales.is_crm_customer", "kpi_sales_by_category.sales_month"} <= set(deprecated)


SYS_PATH_EDIT_ALLOWED: set[str] = set()  # none: even the fits benchmark, which times another checkout's
# crm_warehouse, runs itself again with PYTHONPATH instead
SYS_PATH_EDIT = re.compile(r"\bsys\.path\s*(?:\.(?:insert|append|extend)\s*\(|\[[^\]]*\]\s*=|\+=|=(?!=))")


def test_runtime_code_imports_the_installed_package_without_sys_path_edits():
    """app/, scripts/, src/, orchestration/ and the dbt Python models import crm_warehouse as installed
    (editable into .venv; .venv-orchestration gets src/ on PYTHONPATH from scripts/tasks.py)."""
    edits = []
    for folder in ("app", "scripts", "src", "orchestration", "models", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if SYS_PATH_EDIT.search(line) and relative not in SYS_PATH_EDIT_ALLOWED:
                    edits.append(f"{relative}:{number}: {line.strip()}")
    assert not edits, "sys.path edited in runtime code (import the installed crm_warehouse instead):\n" + "\n".join(
        edits
    )


def test_every_app_view_is_a_page_of_the_one_page_list():
    """app/views/*.py and crm_warehouse.app_pages.PAGES (the app's navigation, its browser test and its
    benchmark read it) name the same pages, each URL path once, one default page at the root."""
    from crm_warehouse import app_pages

    views = sorted(path.stem for path in (ROOT / "app" / "views").glob("*.py"))
    listed = [page.view for page in app_pages.PAGES]
    assert sorted(listed) == views, f"app/views has {views}, crm_warehouse/app_pages.py lists {sorted(listed)}"
    paths = [page.url_path for page in app_pages.PAGES]
    assert len(set(paths)) == len(paths), f"a URL path twice in crm_warehouse/app_pages.py: {paths}"
    assert paths.count("") == 1, "exactly one page (the default) lives at the app's root URL"
    for page in app_pages.PAGES:
        view = (ROOT / "app" / "views" / f"{page.view}.py").read_text(encoding="utf-8")
        assert f'st.title("{page.heading}")' in view, f"app/views/{page.view}.py does not show {page.heading!r}"
