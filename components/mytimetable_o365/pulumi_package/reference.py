"""docs/configuration.md's two reference tables (the config keys, the outputs), rendered from the
package schema, so that the schema every Pulumi language sees and the reference people read are
one source: the docstrings of pulumi_package/inputs.py and integration.py.

    venv/bin/python -m mytimetable_o365.pulumi_package.reference docs/configuration.md

rewrites the tables between their markers; a test fails while they differ from the schema.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .inputs import PACKAGE_ONLY_INPUTS
from .integration import TYPE_TOKEN
from .provider import IntegrationProvider

DEFAULT = "\n\nDefault: "
SETTING = "\n\nMyTimetable: "
TABLES = {
    "configuration": ("| key | default | accepted |", "|---|---|---|"),
    "outputs": ("| output | meaning | MyTimetable setting |", "|---|---|---|"),
}


def begin_marker(table: str) -> str:
    return (f"<!-- {table} table: rendered from the package schema (the docstrings in "
            "components/mytimetable_o365/pulumi_package/); after a change run "
            "`venv/bin/python -m mytimetable_o365.pulumi_package.reference docs/configuration.md` -->")


def end_marker(table: str) -> str:
    return f"<!-- end of the {table} table -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _split(description: str, separator: str, name: str) -> tuple[str, str]:
    if separator not in description:
        raise ValueError(f"{name}: its docstring must end with a paragraph {separator.strip()!r}")
    text, tail = description.rsplit(separator, 1)
    return text, tail


def configuration_rows(schema: dict[str, Any]) -> list[str]:
    """One row per config key (an object's keys as `object.key`), in the schema's order."""
    rows = []
    for name, prop in schema["resources"][TYPE_TOKEN]["inputProperties"].items():
        if name in PACKAGE_ONLY_INPUTS:
            continue
        ref = prop.get("$ref", "")
        if ref.startswith("#/types/"):
            nested = schema["types"][ref.removeprefix("#/types/")]["properties"]
            keys = [(f"{name}.{sub}", sub_prop) for sub, sub_prop in nested.items()]
        else:
            keys = [(name, prop)]
        for key, key_prop in keys:
            accepted, default = _split(key_prop.get("description", ""), DEFAULT, key)
            rows.append(f"| `{key}` | {_cell(default)} | {_cell(accepted)} |")
    return rows


def output_rows(schema: dict[str, Any]) -> list[str]:
    rows = []
    for name, prop in schema["resources"][TYPE_TOKEN]["properties"].items():
        meaning, setting = _split(prop.get("description", ""), SETTING, name)
        secret = " (secret)" if prop.get("secret") else ""
        rows.append(f"| `{name}`{secret} | {_cell(meaning)} | {_cell(setting)} |")
    return rows


def tables(schema: dict[str, Any]) -> dict[str, str]:
    rows = {"configuration": configuration_rows(schema), "outputs": output_rows(schema)}
    return {table: "\n".join([begin_marker(table), *TABLES[table], *rows[table], end_marker(table)]) for table in TABLES}


def with_tables(document: str, schema: dict[str, Any]) -> str:
    """`document` with each table between its markers replaced by the one rendered from `schema`."""
    for table, text in tables(schema).items():
        begin, end = begin_marker(table), end_marker(table)
        if document.count(begin) != 1 or document.count(end) != 1:
            raise ValueError(f"the document needs exactly one {begin!r} ... {end!r}")
        head, rest = document.split(begin, 1)
        document = head + text + rest.split(end, 1)[1]
    return document


def main(argv: list[str] | None = None) -> int:
    (path,) = argv if argv is not None else sys.argv[1:]
    schema = json.loads(IntegrationProvider().schema or "{}")
    with open(path, encoding="utf-8") as file:
        document = file.read()
    with open(path, "w", encoding="utf-8") as file:
        file.write(with_tables(document, schema))
    return 0


if __name__ == "__main__":
    sys.exit(main())
