# mitmproxy addon for the benchmark: the same job veil does (inject a bearer token) and the same
# dialling trick as veil's --connect-to (bench names go to the local upstream, TLS still checked).
import os

UPSTREAM = ("127.0.0.1", int(os.environ["BENCH_UPSTREAM_PORT"]))
TOKEN = os.environ["BENCH_TOKEN"]


def server_connect(data):
    if data.server.address and data.server.address[0].endswith("bench.example.com"):
        data.server.address = UPSTREAM


def request(flow):
    if flow.request.pretty_host.endswith("bench.example.com"):
        flow.request.headers["authorization"] = "Bearer " + TOKEN
