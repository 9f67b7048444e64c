import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jindu.settings")
application = get_wsgi_application()
# The URLconf, and with it every app's views, forms and tables, imported as the server process
# starts rather than on its first request: that request waited about half a second for it
# (0.55-0.75 s for a first dashboard against 0.1 s after).
get_resolver().url_patterns  # noqa: B018
