#!/usr/bin/env python3
"""Seeds an AWS endpoint with boto3 for tests/aws_moto.rs: reads a JSON list
of calls, [service, operation, arguments], from its standard input and makes
them in order against the endpoint given as its one argument, so that the
test states what it seeds beside what it asserts. A number under a key named
Timestamp is Unix seconds. Prints nothing; a failing call fails it."""

import json
import sys

import boto3


def main():
    endpoint = sys.argv[1]
    clients = {}
    for service, operation, arguments in json.load(sys.stdin):
        if service not in clients:
            clients[service] = boto3.client(service, endpoint_url=endpoint)
        getattr(clients[service], operation)(**arguments)


if __name__ == "__main__":
    main()
