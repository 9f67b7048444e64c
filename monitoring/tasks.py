from django_tasks import task


@task()
def recompute_rollups(village_ids: list[int]) -> int:
    """Recompute the rollups of villages a large change marked (an import, a sweep batch)."""
    from monitoring import rollups

    return rollups.recompute_dirty(village_ids)
