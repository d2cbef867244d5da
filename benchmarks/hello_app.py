"""The baseline for bench_pages.py: the smallest Pyramid application, served by waitress.

Its throughput is what waitress + Pyramid + the benchmark's own client manage
on this machine with no application work at all; the real pages are reported
as a fraction of it, so numbers from different machines can be compared.

    python benchmarks/hello_app.py 127.0.0.1:8765 8      # listen address, threads
"""

from __future__ import annotations

import sys

import waitress
from pyramid.config import Configurator
from pyramid.response import Response


def hello(request):
    return Response("hello", content_type="text/plain")


def make_app():
    with Configurator() as config:
        config.add_route("hello", "/")
        config.add_view(hello, route_name="hello")
        return config.make_wsgi_app()


if __name__ == "__main__":
    listen, threads = sys.argv[1], int(sys.argv[2])
    waitress.serve(make_app(), listen=listen, threads=threads)
