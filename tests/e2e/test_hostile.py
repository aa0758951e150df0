"""A hostile client against a real `turboserve serve --no-engine`: no input stops the server, slow clients are
timed out, uploads are capped and judged by their header, SIGTERM exits 0."""

import json
import select
import socket
import struct
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests


NUMERIC_FIELDS = ["seconds", "steps", "num_inference_steps", "seed", "width", "height", "num_frames", "fps",
                  "sigma_max", "boundary", "deadline_seconds"]
EXTREMES = ["1e19", "-1e19", "1e300", "-1e300", "NaN", "Infinity", "-Infinity"]


@pytest.fixture()
def start(make_no_engine_server):
    """`start(**env)`: a started no-engine server with that environment."""
    return lambda **env: make_no_engine_server(env)


def png(width: int, height: int, complete: bool = True) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80\x40\x20" * min(width, 64) for _ in range(min(height, 64)))
    body = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw))
    return body + chunk(b"IEND", b"") if complete else body[:-7]


def assert_error(response, status, param=None):
    assert response.status_code == status, response.text[:300]
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if param is not None:
        assert error["param"] == param, error
    assert "/tmp/" not in response.text and "/var/" not in response.text and "/work/" not in response.text


def test_no_numeric_value_in_any_encoding_stops_the_server(start):
    server = start()
    counts = 0
    for path in ["/v1/videos", "/v1/videos/sync"]:
        for field in NUMERIC_FIELDS:
            for value in EXTREMES:
                answers = [
                    requests.post(server.url + path, data=f'{{"prompt": "p", "{field}": {value}}}', headers={"Content-Type": "application/json"}, timeout=10),
                    requests.post(server.url + path, json={"prompt": "p", field: value}, timeout=10),
                    requests.post(server.url + path, files={"prompt": (None, "p"), field: (None, value)}, timeout=10),
                ]
                for answer in answers:
                    assert_error(answer, 400, field)
                    counts += 1
            assert server.alive(), f"the server died after {field}"
    limit = requests.get(server.url + "/v1/videos?limit=1e19", timeout=10)
    assert_error(limit, 400, "limit")
    assert server.alive()
    assert requests.get(server.url + "/v1/videos", timeout=10).json()["data"] == []
    print(f"{counts} hostile numeric requests, all 400 naming the field; server still up")


def test_bad_text_prompt_and_uploads_are_400_naming_the_field(start):
    server = start()
    assert_error(requests.post(server.url + "/v1/videos", json={"prompt": "x" * 100_000}, timeout=10), 400, "prompt")
    assert_error(requests.post(server.url + "/v1/videos", json={"prompt": "e" + "\u0301" * 40_000}, timeout=10), 400, "prompt")
    assert_error(requests.post(server.url + "/v1/videos", json={"prompt": "a\u0000b"}, timeout=10), 400, "prompt")
    assert_error(requests.post(server.url + "/v1/videos", data=b'{"prompt": "\xff\xfe"}', headers={"Content-Type": "application/json"}, timeout=10), 400, "prompt")
    assert_error(requests.post(server.url + "/v1/videos", files={"prompt": (None, b"\xc3\x28")}, timeout=10), 400, "prompt")
    assert_error(requests.post(server.url + "/v1/videos", data="{oops", headers={"Content-Type": "application/json"}, timeout=10), 400)
    for name, image in [("not an image", b"plain text"), ("truncated", png(64, 64, complete=False)),
                        ("bomb", png(30000, 30000)), ("huge jpeg", b"\xff\xd8\xff\xc0\x00\x0b\x08\x75\x30\x75\x30\x01\x01\x11\x00\xff\xda\x00\x02\xff\xd9")]:
        answer = requests.post(server.url + "/v1/videos", data={"prompt": "p", "model": "tiny-i2v"},
                               files={"input_reference": ("a.png", image, "image/png")}, timeout=10)
        assert_error(answer, 400, "input_reference")
    ok = requests.post(server.url + "/v1/videos", data={"prompt": "p", "model": "tiny-i2v"}, files={"input_reference": ("a.png", png(64, 64), "image/png")}, timeout=10)
    assert ok.status_code == 200, ok.text
    assert server.alive()


def test_unknown_routes_and_methods_answer_in_openai_shape(start):
    server = start()
    assert_error(requests.get(server.url + "/nope", timeout=10), 404)
    assert_error(requests.get(server.url + "/ui/..%2f..%2fetc%2fpasswd", timeout=10), 404)
    trace = requests.request("TRACE", server.url + "/v1/videos", timeout=10)
    assert_error(trace, 405)
    assert trace.headers["Allow"] == "GET, POST"


def test_sigterm_and_sigint_exit_zero(start, tmp_path):
    for sig in ["SIGTERM", "SIGINT"]:
        server = start()
        requests.post(server.url + "/v1/videos", json={"prompt": "p"}, timeout=10)
        if sig == "SIGINT":
            import signal
            server.process.send_signal(signal.SIGINT)
            server.process.wait(timeout=30)
            code = server.process.returncode
        else:
            code = server.stop()
        log = server.log_path.read_text()
        assert code == 0, f"{sig}: exit {code}\n{log[-2000:]}"
        assert "Server shutdown error" not in log


def test_open_event_streams_and_a_waiting_sync_request_do_not_hold_up_sigterm(start):
    """A client that watched a queued job's events and left, one still reading them, and a `POST /v1/videos/sync`
    still waiting: SIGTERM exits 0 all the same (the stream of the client that left held the server until it was
    killed). The reader sees `: keep-alive` comments while nothing changes, then the end of its stream without a
    `done` (the job never finished); the waiting request gets 202 with its video; both jobs stay queued."""
    server = start(TURBOSERVE_LIMITS_EVENTS_HEARTBEAT_SECONDS="1")
    video = requests.post(server.url + "/v1/videos", json={"prompt": "p"}, timeout=10).json()
    events = f"{server.url}/v1/videos/{video['id']}/events"
    with requests.get(events, stream=True, timeout=10) as left:
        assert next(left.iter_lines(decode_unicode=True)) == "event: progress"
    reading = requests.get(events, stream=True, timeout=30)
    lines = reading.iter_lines(decode_unicode=True)
    assert next(lines) == "event: progress"
    assert ": keep-alive" in (next(lines) for _ in range(8)), "a quiet stream sends keep-alive comments"
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(requests.post, server.url + "/v1/videos/sync", json={"prompt": "q"}, timeout=60)
        deadline = time.monotonic() + 30
        while len(requests.get(server.url + "/v1/videos", timeout=10).json()["data"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        code = server.stop()
        answer = waiting.result()
    assert code == 0, f"exit {code} (-9: killed after a minute)\n{server.log_path.read_text()[-2000:]}"
    rest = list(lines)
    assert not any(line.startswith("event: done") for line in rest), rest
    assert answer.status_code == 202 and answer.json()["status"] == "queued", answer.text[:300]


def wait_closed(sock: socket.socket, deadline: float) -> bool:
    """True once the server closed `sock` (EOF or reset) before `deadline`."""
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            if sock.recv(4096) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def test_slowloris_headers_and_trickled_bodies_are_timed_out(start):
    server = start(TURBOSERVE_SERVER_IDLE_TIMEOUT_SECONDS=2, TURBOSERVE_LIMITS_BODY_TIMEOUT_SECONDS=3)
    loris = []
    for _ in range(60):
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"GET /v1/videos HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        loris.append(sock)
    started = time.monotonic()
    assert requests.get(server.url + "/v1/videos", timeout=5).status_code == 200
    closed = [wait_closed(sock, started + 10) for sock in loris]
    assert all(closed), f"{closed.count(False)} slowloris sockets still open after 10 s"
    print(f"60 slowloris sockets closed after {time.monotonic() - started:.1f} s (idle timeout 2 s)")

    trickle = socket.create_connection(("127.0.0.1", server.port))
    trickle.sendall(b"POST /v1/videos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
    began, answer = time.monotonic(), b""
    trickle.settimeout(0.2)
    while time.monotonic() - began < 12 and not answer:
        try:
            trickle.sendall(b" ")  # one byte every 0.5 s: under the idle timeout, never done
        except OSError:
            break
        try:
            answer = trickle.recv(4096)
        except socket.timeout:
            pass
        time.sleep(0.3)
    elapsed = time.monotonic() - began
    assert answer.startswith(b"HTTP/1.1 408") or answer == b"", answer[:200]
    assert elapsed < 8, f"the trickled body held the request for {elapsed:.1f} s"
    assert server.alive()


def test_declared_oversized_body_is_413_before_it_is_sent(start):
    server = start()
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"POST /v1/videos HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 104857600\r\n\r\n")
    sock.settimeout(5)
    answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"payload_too_large"' in answer
    assert server.alive()


def test_concurrent_uploads_beyond_the_cap_get_503_with_retry_after(start):
    server = start(TURBOSERVE_LIMITS_MAX_CONCURRENT_UPLOADS=2)

    def hold_an_upload():
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(b"POST /v1/videos HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n--b\r\n")
        return sock

    held = [hold_an_upload() for _ in range(2)]
    deadline, busy = time.monotonic() + 10, None
    while time.monotonic() < deadline:
        answer = requests.post(server.url + "/v1/videos", files={"prompt": (None, "p")}, timeout=10)
        if answer.status_code == 503:
            busy = answer
            break
        # A held upload whose head reached the server while a probe held the second slot was itself refused
        # (rightly: the gate was full then); hold a fresh one in its place.
        for index, sock in enumerate(held):
            if select.select([sock], [], [], 0)[0]:
                sock.close()
                held[index] = hold_an_upload()
        time.sleep(0.05)
    assert busy is not None, "a third concurrent upload was not refused"
    assert_error(busy, 503)
    assert busy.json()["error"]["code"] == "server_busy" and busy.headers["Retry-After"]
    for sock in held:
        sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if requests.post(server.url + "/v1/videos", files={"prompt": (None, "p")}, timeout=10).status_code == 200:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the upload slots were not given back")


def test_idempotency_keys_are_bounded_and_one_key_makes_one_job(start):
    server = start(TURBOSERVE_LIMITS_MAX_CONCURRENT_UPLOADS=32)
    long_key = requests.post(server.url + "/v1/videos", json={"prompt": "p"}, headers={"Idempotency-Key": "k" * 1000}, timeout=10)
    assert_error(long_key, 400, "Idempotency-Key")
    assert "k" * 300 not in long_key.text
    try:
        huge = requests.post(server.url + "/v1/videos", json={"prompt": "p"}, headers={"Idempotency-Key": "k" * 75_000}, timeout=10)
        assert 400 <= huge.status_code < 500 and "k" * 300 not in huge.text
    except requests.ConnectionError:
        pass  # refused by the header-size limit before any handler
    assert server.alive()

    image = png(64, 64)

    def create(_):
        answer = requests.post(server.url + "/v1/videos", data={"prompt": "waves", "model": "tiny-i2v"},
                               files={"input_reference": ("in.png", image, "image/png")}, headers={"Idempotency-Key": "burst-1"}, timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()["id"]

    with ThreadPoolExecutor(20) as pool:
        ids = set(pool.map(create, range(20)))
    assert len(ids) == 1
    assert len(requests.get(server.url + "/v1/videos?limit=100", timeout=10).json()["data"]) == 1
    other = requests.post(server.url + "/v1/videos", data={"prompt": "waves", "model": "tiny-i2v"},
                          files={"input_reference": ("in.png", png(32, 32), "image/png")}, headers={"Idempotency-Key": "burst-1"}, timeout=10)
    assert_error(other, 409, "Idempotency-Key")
