"""What persons tells other apps, without importing them (monitoring keeps its rollups current
from this).

``persons_changed`` is sent by persons.services inside the transaction of every change to
person files or their records (create, update, status, measures, check-ins, flags, risk,
transfers, imports, sweeps): ``person_ids`` — the persons whose records changed (one batch in
bulk paths) — and ``jurisdiction_ids`` — places whose counts may have changed besides the
persons' current villages (the village a person left); ``villages``, when the sender has them at
hand (an import): the persons' current villages, which the receiver then need not read.
"""

from django.dispatch import Signal

persons_changed = Signal()
