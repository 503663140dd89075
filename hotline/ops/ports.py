"""A free TCP port on loopback, for servers started by tests, benchmarks and
the supervisor's throw-away profiles: fixed ports collide when several test
runs share a machine."""
import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
