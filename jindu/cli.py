"""The `jindu` command: Django's management commands with jindu's own in front.

    jindu serve | migrate | demo [--reset] | import jurisdictions FILE.csv | createuser ... | sweep
    jindu backup DEST | restore SRC [--replace]
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
    import django
    from django.conf import settings
    from django.core.management import execute_from_command_line
    from django.utils import translation

    django.setup()
    # Commands speak the platform's language (Chinese), the one place that says so: Django
    # leaves commands without an active language and some (`@no_translations`) turn it off.
    with translation.override(settings.LANGUAGE_CODE):
        execute_from_command_line(argv)


if __name__ == "__main__":
    main()
