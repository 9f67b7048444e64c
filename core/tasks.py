from django_tasks import task

from core import sweep


@task()
def run_sweep() -> dict:
    return sweep.run_all()
