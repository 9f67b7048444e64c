"""`jindu import persons FILE [--jurisdiction CODE] [--dry-run] [--skip-invalid] [--report OUT.xlsx]
[--json] [--as USERNAME]`"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.importing import FileRejected, annotate
from persons import services
from persons.importers import read_ledger


def add_arguments(parser):
    parser.add_argument("file", type=Path, help="the ledger: xlsx, xls, ods or CSV (UTF-8 or GBK)")
    parser.add_argument("--jurisdiction", help="code of the county, township or village the ledger belongs to "
                                               "(default: the --as user's own)")
    parser.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    parser.add_argument("--skip-invalid", action="store_true", help="import the valid rows, report the others")
    parser.add_argument("--report", type=Path, help="write the file back with a 错误原因 column on rejected rows")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--as", dest="as_user", metavar="USERNAME", help="act as this user (scope and audit)")
    parser.add_argument("--header-row", type=int, help="the header's row number, if it is not found by itself")


def _fail(stderr, message: str) -> int:
    stderr.write(message)
    return 2


def handle(*, file: Path, stdout, stderr, **options) -> int:
    from accounts.models import User
    from jurisdictions.models import Jurisdiction

    acting_user = None
    if options.get("as_user"):
        acting_user = User.objects.filter(username=options["as_user"], is_active=True).first()
        if acting_user is None:
            return _fail(stderr, _("No active user %(name)s.") % {"name": options["as_user"]})
    code = options.get("jurisdiction")
    if code:
        jurisdiction = Jurisdiction.objects.filter(code=code).first()
        if jurisdiction is None:
            return _fail(stderr, _("No jurisdiction with code %(code)s.") % {"code": code})
    elif acting_user is not None and acting_user.jurisdiction is not None:
        jurisdiction = acting_user.jurisdiction
    else:
        return _fail(stderr, _("Say which area the ledger belongs to: --jurisdiction CODE."))
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return _fail(stderr, _("File not found: %(file)s") % {"file": file})
    try:
        ledger = read_ledger(data, file.name, header_row=options.get("header_row"))
        result = services.do_import_persons(ledger, acting_user=acting_user, jurisdiction=jurisdiction,
                                            skip_invalid=options.get("skip_invalid", False),
                                            dry_run=options.get("dry_run", False), source=file.name)
    except FileRejected as rejected:
        if options.get("json"):
            stdout.write(json.dumps(services.ImportResult(rejected=rejected.errors).as_dict(), ensure_ascii=False))
        else:
            stderr.write(_("The file was rejected; nothing was changed:"))
            for e in rejected.errors:
                stderr.write(_("row %(row)s, %(field)s: %(message)s") % e.as_dict())
        return 1
    except (services.NotAllowed, ValidationError) as error:
        return _fail(stderr, " ".join(error.messages) if isinstance(error, ValidationError) else str(error))
    if options.get("report"):
        suffix = options["report"].suffix.lower()
        try:
            content, _name = annotate(data, file.name, ledger.header_row, result.rejected,
                                      as_xlsx=True if suffix == ".xlsx" else False if suffix == ".csv" else None,
                                      sheet_index=ledger.sheet_index)
            options["report"].write_bytes(content)
        except FileRejected as refused:
            stderr.write(refused.errors[0].message)
    if options.get("json"):
        stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        stdout.write(summary(result))
        for e in result.rejected:
            stderr.write(_("row %(row)s, %(field)s: %(message)s") % e.as_dict())
        for e in result.warnings:
            stdout.write(_("warning: row %(row)s, %(field)s: %(message)s") % e.as_dict())
    return 1 if result.rejected and not options.get("skip_invalid") else 0


def summary(result: services.ImportResult) -> str:
    values = result.as_dict() | {"rejected": len({e.row for e in result.rejected})}
    if result.dry_run:
        return _("Dry run, nothing written: %(rows_read)s rows read; %(imported)s would be created, %(updated)s "
                 "updated, %(unchanged)s unchanged; %(rejected)s rows rejected.") % values
    if not result.written:
        return _("Nothing was imported: %(rejected)s of %(rows_read)s rows were rejected. Fix them, or import the "
                 "valid rows with --skip-invalid.") % values
    return _("%(rows_read)s rows read: %(imported)s files created, %(updated)s updated, %(unchanged)s unchanged, "
             "%(rejected)s rows rejected.") % values
