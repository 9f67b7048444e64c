"""The `jindu` command: Django's management commands with jindu's own in front.

    jindu serve | migrate | demo [--reset] | import jurisdictions FILE.csv | createuser ... | sweep
    jindu manage COMMAND ...   (any Django management command)
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jindu.settings")
    if len(argv) > 1 and argv[1] == "manage":
        argv = [argv[0], *argv[2:]]
    if len(argv) == 1:
        argv.append("help")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
