"""Drive faultlab's Toxiproxy API with the unmodified `toxiproxy-python`
client from PyPI (pip install toxiproxy-python).

Usage: python_client.py API_HOST API_PORT ECHO_UPSTREAM
ECHO_UPSTREAM is a host:port that echoes what it receives. Prints `ok` and
exits 0 when every step behaved as it does against Toxiproxy.
"""

import socket
import sys
import time

from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists


def round_trip(listen):
    host, port = listen.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(b"ping")
        got = b""
        while len(got) < 4:
            chunk = sock.recv(4 - len(got))
            if not chunk:
                raise AssertionError("connection closed after %r" % got)
            got += chunk
        assert got == b"ping", got
        return time.monotonic() - started


def refused(listen):
    host, port = listen.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def main():
    host, port, upstream = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    server = Toxiproxy()
    server.update_api_consumer(host, port)
    assert server.running(), "the API answers"
    assert server.version(), "a version"

    proxy = server.create(upstream=upstream, name="py", listen="127.0.0.1:0")
    assert proxy.enabled is True
    assert not proxy.listen.endswith(":0"), proxy.listen
    assert "py" in server.proxies()
    assert round_trip(proxy.listen) < 0.2

    proxy.add_toxic(type="latency", attributes={"latency": 300})
    toxic = proxy.get_toxic("latency_downstream")
    assert toxic is not None and toxic.attributes["latency"] == 300, vars(toxic)
    assert toxic.stream == "downstream" and toxic.toxicity == 1, vars(toxic)
    assert round_trip(proxy.listen) >= 0.3

    # toxiproxy-python 0.1.1 has no call to update a toxic: its own HTTP
    # consumer posts the update, as Toxiproxy's API documents it.
    APIConsumer.post("/proxies/py/toxics/latency_downstream", json={"attributes": {"latency": 20}})
    assert proxy.get_toxic("latency_downstream").attributes["latency"] == 20
    took = round_trip(proxy.listen)
    assert 0.02 <= took < 0.25, took

    for bad, error in [(dict(type="nonsense"), InvalidToxic), (dict(type="latency"), ProxyExists)]:
        try:
            proxy.add_toxic(**bad)
            raise AssertionError("%r was accepted" % bad)
        except error:
            pass

    proxy.destroy_toxic("latency_downstream")
    assert proxy.toxics() == {}
    assert round_trip(proxy.listen) < 0.2

    with proxy.down():
        assert refused(proxy.listen), "disabled: refused"
    assert round_trip(proxy.listen) < 0.2, "enabled again"

    proxy.add_toxic(type="timeout", stream="upstream", name="hold", toxicity=0.5, attributes={"timeout": 0})
    assert server.reset() is True
    assert server.get_proxy("py").toxics() == {}

    populated = server.populate([{"name": "py", "upstream": upstream, "listen": proxy.listen}])
    assert populated == [], "same listen and upstream: the client keeps it"
    populated = server.populate([{"name": "py-other", "upstream": upstream, "listen": "127.0.0.1:0"}])
    assert [p.name for p in populated] == ["py-other"], populated
    assert round_trip(populated[0].listen) < 0.2
    assert sorted(server.proxies()) == ["py", "py-other"], server.proxies()

    try:
        server.create(upstream=upstream, name="py", listen="127.0.0.1:0")
        raise AssertionError("a second proxy `py` was accepted")
    except ProxyExists:
        pass

    proxy.destroy()
    assert server.get_proxy("py") is None
    print("ok")


if __name__ == "__main__":
    main()
