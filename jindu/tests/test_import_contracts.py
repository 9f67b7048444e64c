"""jindu.import_contracts: an import inside a function is told from one made when the module
is loaded (the monitoring contract in pyproject.toml rests on it)."""

from jindu.import_contracts import _function_lines


def test_imports_inside_functions_are_told_from_module_level_ones(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text("import os\n"
                      "from persons import models\n"
                      "\n"
                      "def read():\n"
                      "    from persons import queries\n"
                      "    if True:\n"
                      "        import persons.services\n"
                      "\n"
                      "class Page:\n"
                      "    from persons import rules\n"
                      "    async def render(self):\n"
                      "        from persons import tables\n", encoding="utf-8")
    assert _function_lines(str(module)) == {5, 7, 12}
