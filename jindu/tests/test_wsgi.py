"""jindu.wsgi: what `jindu serve`'s processes load before their first request."""

import subprocess
import sys


def test_the_server_process_imports_the_urlconf_before_its_first_request():
    script = ("import sys, jindu.wsgi; "
              "print('persons.views' in sys.modules, 'monitoring.views' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]
