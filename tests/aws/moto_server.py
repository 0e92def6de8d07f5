#!/usr/bin/env python3
"""moto's server (what `moto_server -H 127.0.0.1 -p PORT` runs) for
tests/aws_moto.rs, with the corrections its EventBridge needs to behave as
AWS does for a partner event bus, and a record of the requests it answered.

It binds a free loopback port, prints it on one line, serves until its
standard input closes (the test process ended, however it ended), then stops.

Corrections, each where moto 5.2.6 answers other than AWS:
  - The rule APIs cut an event bus name at its last "/", so every rule call
    on a partner bus (aws.partner/...) answers ResourceNotFoundException.
    AWS takes a bus's name whole, or its ARN.
  - DescribeEventSource of a source that does not exist raises a KeyError
    (HTTP 500); AWS answers ResourceNotFoundException.

GET /_requests answers the record as JSON: per request the service and
access key of its signature's credential scope and the operation, and for
AssumeRole the access key it issued, so that a test can tell which identity
signed what.
"""

import io
import json
import logging
import os
import re
import sys
import threading
import urllib.parse

from moto.events.exceptions import ResourceNotFoundException
from moto.events.models import EventsBackend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


def normalize_event_bus_arn(self, event_bus_arn):
    if event_bus_arn is None:
        return "default"
    if event_bus_arn.startswith("arn:"):
        return event_bus_arn.split(":event-bus/", 1)[-1]
    return event_bus_arn


def describe_event_source(self, name):
    if name not in self.event_sources:
        raise ResourceNotFoundException(f"Event source {name} does not exist.")
    return self.event_sources[name]


EventsBackend._normalize_event_bus_arn = normalize_event_bus_arn
EventsBackend.describe_event_source = describe_event_source


class Recorder:
    """The requests answered: service, access key id, operation."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.requests = []

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_requests":
            with self.lock:
                body = json.dumps(self.requests).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        request = self.describe(environ)
        with self.lock:
            self.requests.append(request)
        response = self.app(environ, start_response)
        if request["operation"] != "AssumeRole":
            return response
        body = b"".join(response)
        issued = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", body)
        with self.lock:
            request["issued"] = issued.group(1).decode() if issued else ""
        return [body]

    @staticmethod
    def describe(environ):
        # AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...
        auth = environ.get("HTTP_AUTHORIZATION", "")
        scope = auth.partition("Credential=")[2].split(",")[0].split("/")
        key, service = (scope[0], scope[3]) if len(scope) >= 5 else ("", "")
        # awsJson (X-Amz-Target), RPC v2 CBOR (the path), awsQuery (the body)
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        path = environ.get("PATH_INFO", "")
        if not operation and "/operation/" in path:
            operation = path.rpartition("/")[2]
        if not operation and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            operation = form.get("Action", [""])[0]
        return {"service": service, "key": key, "operation": operation}


def main():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = Recorder(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    print(server.server_port, flush=True)
    # The port is all the test reads from stdout: the rest goes to stderr.
    os.dup2(2, 1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
