"""A WSGI application for the web worker's tests (core/tests/test_web_worker.py): it answers
``/?sleep=S&mark=NAME`` after S seconds with the serving process's id, and writes the file
``NAME`` into the directory $SLOW_WSGI_MARKS when it starts, so a test knows a request is
being served."""

import json
import os
import time
import urllib.parse
from pathlib import Path


def app(environ, start_response):
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    mark = query.get("mark", [""])[0]
    if mark:
        (Path(os.environ["SLOW_WSGI_MARKS"]) / mark).write_text(str(os.getpid()))
    time.sleep(float(query.get("sleep", ["0"])[0]))
    body = json.dumps({"pid": os.getpid()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
