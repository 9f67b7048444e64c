#!/usr/bin/env bash
# Extract the UI strings of jindu's own apps into jindu/locale/zh_Hans/LC_MESSAGES/django.po
# (needs gettext's xgettext), then compile the .po into the .mo with polib, so compiling needs
# no msgfmt. Commit both files: CI has no gettext. jindu/tests/test_translations.py fails when
# the .po has untranslated or fuzzy entries or the .mo is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# makemessages walks the whole checkout; ignore everything that is not first-party source
# (an --ignore pattern matches a directory's name or its path).
$BIN/jindu manage makemessages --locale zh_Hans --add-location file --no-obsolete \
  --ignore .venv --ignore .tools --ignore data --ignore node_modules --ignore '*.egg-info' \
  --ignore build --ignore docs --ignore scripts --ignore test-artifacts --ignore tests \
  --ignore jindu/static --ignore jindu/testing
$BIN/python - <<'PY'
from pathlib import Path

import polib

for po_path in sorted(Path("jindu/locale").glob("*/LC_MESSAGES/*.po")):
    catalogue = polib.pofile(str(po_path))
    catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
    untranslated = len(catalogue.untranslated_entries()) + len(catalogue.fuzzy_entries())
    print(f"{po_path}: {len(catalogue.translated_entries())} translated, {untranslated} still to translate")
PY
