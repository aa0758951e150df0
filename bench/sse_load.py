#!/usr/bin/env python3
"""SSE under load: opens N Server-Sent-Event streams (a share of them slow readers that never read) against a
TurboServe on 127.0.0.1 and measures, before and while they are open, the latency of GET /v1/videos (p50/p99) and,
with an engine, how long one small job takes from create to completed. Loopback only, bounded in count and time.

    python3 bench/sse_load.py --url http://127.0.0.1:8080 --streams 1000 --slow 0.3 --probes 200

Standard library only. Prints a Markdown table."""

import argparse
import asyncio
import json
import statistics
import time
import urllib.request
from urllib.parse import urlparse


def request(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read() or b"null")


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def probe_latency(url, count):
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        request(url + "/v1/videos?limit=20")
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 0.99)


def job_seconds(url, deadline_s):
    """Create-to-completed time of one tiny job (None without an engine or past the deadline)."""
    started = time.monotonic()
    video = request(url + "/v1/videos", "POST", {"prompt": "sse load probe", "steps": 1, "size": "112x64", "seconds": 1, "priority": "interactive"})
    while time.monotonic() - started < deadline_s:
        status = request(url + f"/v1/videos/{video['id']}")["status"]
        if status in ("completed", "failed"):
            return time.monotonic() - started if status == "completed" else None
        time.sleep(0.05)
    return None


async def open_stream(host, port, video_id, slow, events, opened):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET /v1/videos/{video_id}/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    opened.append(writer)
    if slow:
        return  # never reads: the kernel buffers fill, the server must not care
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            return
        events[0] += chunk.count(b"event: ")


async def main_async(args):
    parsed = urlparse(args.url)
    host, port = parsed.hostname, parsed.port or 80
    loop = asyncio.get_running_loop()
    targets = [request(args.url + "/v1/videos", "POST", {"prompt": f"sse target {i}", "priority": "batch"})["id"] for i in range(args.targets)]
    rows = []
    p50, p99 = await loop.run_in_executor(None, probe_latency, args.url, args.probes)
    job = await loop.run_in_executor(None, job_seconds, args.url, args.job_deadline) if args.engine else None
    rows.append(("no streams", p50, p99, job))

    events, opened, tasks = [0], [], []
    started = time.monotonic()
    slow_every = int(1 / args.slow) if args.slow > 0 else 0
    for index in range(args.streams):
        slow = slow_every > 0 and index % slow_every == 0
        tasks.append(asyncio.create_task(open_stream(host, port, targets[index % len(targets)], slow, events, opened)))
        if index % 100 == 99:
            await asyncio.sleep(0)
    while len(opened) < args.streams and time.monotonic() - started < 60:
        await asyncio.sleep(0.05)
    open_seconds = time.monotonic() - started
    # Probe once the streams are idle: every reading stream has had its first event (bounded wait).
    reading = sum(1 for i in range(args.streams) if not (slow_every and i % slow_every == 0))
    while events[0] < reading and time.monotonic() - started < 60:
        await asyncio.sleep(0.05)
    p50, p99 = await loop.run_in_executor(None, probe_latency, args.url, args.probes)
    job = await loop.run_in_executor(None, job_seconds, args.url, args.job_deadline) if args.engine else None
    rows.append((f"{len(opened)} streams open ({sum(1 for i in range(args.streams) if slow_every and i % slow_every == 0)} slow readers)", p50, p99, job))
    for writer in opened:
        writer.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for target in targets:
        request(args.url + f"/v1/videos/{target}", "DELETE")

    print(f"streams opened in {open_seconds:.1f} s; events received by the reading streams: {events[0]}")
    print("| state | GET /v1/videos p50 (ms) | p99 (ms) | one job, create → completed (s) |")
    print("|---|---|---|---|")
    for name, p50, p99, job in rows:
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {'–' if job is None else f'{job:.2f}'} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--slow", type=float, default=0.3, help="share of streams that never read")
    parser.add_argument("--targets", type=int, default=20, help="queued jobs the streams follow")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--engine", action="store_true", help="the server has an engine: also time one job")
    parser.add_argument("--job-deadline", type=float, default=120)
    args = parser.parse_args()
    assert urlparse(args.url).hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    assert args.streams <= 2000, "bounded: at most 2000 streams"
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
