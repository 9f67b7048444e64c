from django_tasks import task


@task()
def run_ledger(upload_pk: int, dry_run: bool) -> dict:
    """Check or import an uploaded ledger (persons.services.run_ledger)."""
    from persons import services

    return services.run_ledger(upload_pk, dry_run)
