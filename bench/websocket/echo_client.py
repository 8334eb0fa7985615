#!/usr/bin/env python3
"""WebSocket echo load: CONNS connections, each keeping WINDOW messages of SIZE bytes in flight.

Frames are built once and written raw on asyncio streams (no WebSocket library in the loop),
so the client spends as little CPU per message as Python allows. Every reply is checked to be
one unmasked text frame of SIZE bytes. Prints "messages_per_second errors messages": the rate
over DURATION after WARMUP, the connections that failed, and every echo of the whole run (for
CPU per message over the client's lifetime).

usage: echo_client.py HOST PORT PATH [CONNS=100] [SIZE=64] [DURATION=5] [WINDOW=4] [WARMUP=1]
"""
import asyncio
import base64
import os
import sys
import time


def frame(size):
    mask = os.urandom(4)
    payload = b"m" * size
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    if size < 126:
        head = bytes([0x81, 0x80 | size])
    else:
        head = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    return head + mask + masked


async def connection(host, port, path, size, window, counts, index, stop):
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"no upgrade: {head[:80]!r}")
    out = frame(size)
    reply_head = bytes([0x81, size]) if size < 126 else bytes([0x81, 126]) + size.to_bytes(2, "big")
    reply_length = len(reply_head) + size
    writer.write(out * window)
    while not stop.is_set():
        reply = await reader.readexactly(reply_length)
        if reply[:len(reply_head)] != reply_head:
            raise RuntimeError(f"unexpected frame {reply[:4]!r}")
        counts[index] += 1
        writer.write(out)
    writer.close()


async def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    given = [int(a) for a in sys.argv[4:9]]
    conns, size, duration, window, warmup = given + [100, 64, 5, 4, 1][len(given):]
    counts = [0] * conns
    stop = asyncio.Event()
    tasks = [asyncio.create_task(connection(host, port, path, size, window, counts, i, stop)) for i in range(conns)]
    await asyncio.sleep(warmup)
    start, before = time.monotonic(), sum(counts)
    await asyncio.sleep(duration)
    done, after = time.monotonic(), sum(counts)
    stop.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = sum(1 for r in results if isinstance(r, Exception))
    print(f"{(after - before) / (done - start):.0f} {errors} {sum(counts)}")


asyncio.run(main())
