"""jindu's PostgreSQL backend (base.py): Django's, with the server binding the parameters and
Django told the protocol's limit on them. Statements are never prepared (settings.py says why)."""
