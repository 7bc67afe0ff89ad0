"""macros/_macros.yml documents every macro of macros/ (and every generic test) with its arguments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = re.compile(r"\{%-?\s*(macro|test)\s+(\w+)\s*\((.*?)\)\s*-?%\}", re.S)


def defined_macros(folder: Path) -> dict[str, list[str]]:
    """{macro name: argument names} of every .sql file under folder (generic tests as test_<name>)."""
    found = {}
    for path in sorted(folder.rglob("*.sql")):
        for kind, name, arguments in DEFINITION.findall(path.read_text(encoding="utf-8")):
            names = [argument.split("=")[0].strip() for argument in arguments.split(",") if argument.strip()]
            found[f"test_{name}" if kind == "test" else name] = names
    return found


def documented_macros(path: Path) -> dict[str, dict]:
    return {entry["name"]: entry for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["macros"]}


def undocumented(folder: Path, yml: Path) -> list[str]:
    documented = documented_macros(yml)
    problems = []
    for name, arguments in defined_macros(folder).items():
        entry = documented.get(name)
        if entry is None or not str(entry.get("description") or "").strip():
            problems.append(f"{name}: no entry with a description")
            continue
        listed = {argument["name"] for argument in entry.get("arguments") or []}
        problems += [
            f"{name}: argument {argument.get('name')} needs exactly a name, a type and a description"
            for argument in entry.get("arguments") or []
            if set(argument) != {"name", "type", "description"} or not str(argument["description"] or "").strip()
        ]
        problems += [f"{name}: argument {argument} not documented" for argument in arguments if argument not in listed]
    return problems


def test_every_macro_and_argument_is_documented():
    assert undocumented(ROOT / "macros", ROOT / "macros" / "_macros.yml") == []


def argument(name: str) -> dict:
    return {"name": name, "type": "string", "description": f"the {name}"}


@pytest.mark.parametrize("change", ["new macro", "new argument", "argument without description"])
def test_an_undocumented_macro_or_argument_is_reported(tmp_path, change):
    (tmp_path / "utils").mkdir()
    sql = "{% macro crm_x(a, b=none) -%} select 1 {%- endmacro %}\n{% test y(model) %} select 1 {% endtest %}\n"
    (tmp_path / "utils" / "x.sql").write_text(sql)
    yml = tmp_path / "_macros.yml"
    documented = [
        {"name": "crm_x", "description": "x", "arguments": [argument("a"), argument("b")]},
        {"name": "test_y", "description": "y", "arguments": [argument("model")]},
    ]
    yml.write_text(yaml.safe_dump({"version": 2, "macros": documented}))
    assert undocumented(tmp_path, yml) == []
    if change == "new macro":
        (tmp_path / "utils" / "z.sql").write_text("{% macro crm_z() -%} 1 {%- endmacro %}\n")
        assert undocumented(tmp_path, yml) == ["crm_z: no entry with a description"]
    elif change == "new argument":
        (tmp_path / "utils" / "x.sql").write_text(sql.replace("b=none)", "b=none, c=0)"))
        assert undocumented(tmp_path, yml) == ["crm_x: argument c not documented"]
    else:  # what an unquoted comma in a YAML flow mapping gives: {description: "Last", "included.": None}
        documented[0]["arguments"][1] = {"name": "b", "type": "string", "description": "Last", "included.": None}
        yml.write_text(yaml.safe_dump({"version": 2, "macros": documented}))
        assert undocumented(tmp_path, yml) == ["crm_x: argument b needs exactly a name, a type and a description"]
