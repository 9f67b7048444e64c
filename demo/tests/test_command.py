"""`jindu demo --persons N` (the module-scoped county of test_persons stays out of the way)."""

import io

from django.core.management import call_command

from demo.builders import WAITING_MEASURES
from persons.models import Person


def test_the_command_takes_the_number_of_persons_and_prints_progress(db, monkeypatch):
    monkeypatch.setenv("JINDU_DEMO_PASSWORD", "Demo-Passw0rd-7")
    out = io.StringIO()
    call_command("demo", "--persons", "15", stdout=out)
    # The persons asked for, and the imported files waiting for their measures (issue 20).
    assert Person.objects.count() == 15 + len(WAITING_MEASURES)
    lines = out.getvalue().splitlines()
    assert "15" in lines[0] and any("15" in line for line in lines[1:3])
    call_command("demo", "--persons", "30", stdout=io.StringIO())
    assert Person.objects.count() == 15 + len(WAITING_MEASURES)  # loaded already: nothing added


def test_the_demo_gives_the_education_bureau_a_few_support_tasks(db, monkeypatch):
    """unit_edu (示范县教育局) sees the persons of its tasks and nobody else (SPEC §2)."""
    from accounts.models import User
    from persons.models import Support, SupportTask

    monkeypatch.setenv("JINDU_DEMO_PASSWORD", "Demo-Passw0rd-7")
    call_command("demo", "--persons", "15", stdout=io.StringIO())
    unit_edu = User.objects.get(username="unit_edu")
    tasks = SupportTask.objects.filter(member_unit=unit_edu.member_unit)
    assert tasks.count() == 3 and tasks.filter(state="closed").count() == 1
    assert set(Person.objects.visible_to(unit_edu)) == {task.person for task in tasks}
    assert Support.objects.visible_to(unit_edu).count() == 2
