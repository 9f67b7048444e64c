"""`jindu import jurisdictions FILE.csv`"""

import json
from pathlib import Path

from django.utils.translation import gettext as _

from jurisdictions import services
from jurisdictions.importers import FileRejected, read_csv


def add_arguments(parser):
    parser.add_argument("file", type=Path, help="CSV with columns code,name,level,parent_code")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def handle(*, file: Path, stdout, stderr, **options) -> int:
    try:
        rows = read_csv(file.read_bytes())
        result = services.do_import_jurisdictions(rows, acting_user=None, source=file.name)
    except FileNotFoundError:
        stderr.write(_("File not found: %(file)s") % {"file": file})
        return 2
    except FileRejected as rejected:
        if options.get("json"):
            stdout.write(json.dumps({"rejected": [e.as_dict() for e in rejected.errors]}, ensure_ascii=False))
        else:
            stderr.write(_("The file was rejected; nothing was changed:"))
            for e in rejected.errors:
                stderr.write(_("row %(row)s, %(field)s: %(message)s") % e.as_dict())
        return 1
    if options.get("json"):
        stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        stdout.write(_("%(rows_read)s rows read: %(created)s created, %(updated)s renamed, %(unchanged)s unchanged.")
                     % result.as_dict())
    return 0
