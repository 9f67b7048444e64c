"""An import-linter contract of jindu's own (pyproject.toml, checked by `make lint`).

``module_level_forbidden``: the source packages import none of the forbidden packages when they
are loaded, that is outside a function. monitoring evaluates, draws and reports what the work
lines register; until issue 22 moves the persons' indicators into persons, it still reads some
of them inside functions, at call time, which leaves the work line free to import monitoring."""

import ast
import importlib.util

from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _function_lines(path: str) -> set[int]:
    """The line numbers of the imports written inside a function of the module at ``path``."""
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), filename=path)
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines.update(inner.lineno for inner in ast.walk(node) if isinstance(inner, ast.Import | ast.ImportFrom))
    return lines


class ModuleLevelForbiddenContract(Contract):
    type_name = "module_level_forbidden"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    forbidden_modules = fields.ListField(subfield=fields.ModuleField())
    skip_modules = fields.ListField(subfield=fields.ModuleField(), required=False)  # and their descendants

    def check(self, graph, verbose: bool) -> ContractCheck:
        found = []
        sources = [m.name for m in self.source_modules]  # type: ignore[attr-defined]
        forbidden = [m.name for m in self.forbidden_modules]  # type: ignore[attr-defined]
        skipped = [m.name for m in self.skip_modules or []]  # type: ignore[attr-defined]
        importers = {child for name in sources for child in {name, *graph.find_descendants(name)}
                     if not any(child == skip or child.startswith(skip + ".") for skip in skipped)}
        for importer in sorted(importers):
            inside_functions = None
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if not any(imported == name or imported.startswith(name + ".") for name in forbidden):
                    continue
                if inside_functions is None:
                    inside_functions = _function_lines(importlib.util.find_spec(importer).origin)
                for detail in graph.get_import_details(importer=importer, imported=imported):
                    if detail["line_number"] not in inside_functions:
                        found.append(f"{importer} -> {imported} (l.{detail['line_number']})")
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["found"]:
            output.print_error(line)
