#!/usr/bin/env python3
"""A TCP relay that holds every chunk for a fixed time in each direction: a
link delay in user space, for kernels without tc's netem qdisc.

    delay_relay.py DELAY_MS STATS_FILE LISTEN_PORT:TARGET_HOST:TARGET_PORT ...

It listens on 127.0.0.1. Each chunk read is written to the other side
DELAY_MS after it was read, in order, so a request and its reply each wait
DELAY_MS: one round trip costs 2 x DELAY_MS more. It also counts the turns of
the first mapping's connections (client data followed by server data, i.e.
round trips a caller waited on) and writes them to STATS_FILE as JSON
{"turns": N, "bytes_up": B, "bytes_down": B} every 0.1 s, so a test can
predict what a delay should cost from what crossed.
SIGTERM ends it."""
import asyncio
import json
import os
import signal
import socket
import sys

delay = float(sys.argv[1]) / 1e3
stats_path = sys.argv[2]
mappings = [m.split(":") for m in sys.argv[3:]]
stats = {"turns": 0, "bytes_up": 0, "bytes_down": 0}


async def pump(reader, writer, direction, conn, counted):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(1 << 16)
            if not data:
                break
            if counted:
                stats["bytes_up" if direction == "up" else "bytes_down"] += len(data)
                if direction == "down" and conn["last"] == "up":
                    stats["turns"] += 1
                conn["last"] = direction
            queue.put_nowait((loop.time() + delay, data))
    except ConnectionError:
        pass
    queue.put_nowait((0, None))
    try:
        await sender
    except ConnectionError:
        pass


def serve(host, port, counted):
    async def on_client(c_reader, c_writer):
        try:
            s_reader, s_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            c_writer.close()
            return
        for sock in (c_writer, s_writer):
            raw = sock.get_extra_info("socket")
            if raw is not None:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = {"last": None}
        await asyncio.gather(pump(c_reader, s_writer, "up", conn, counted),
                             pump(s_reader, c_writer, "down", conn, counted))

    return on_client


async def write_stats():
    while True:
        tmp = stats_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(stats, f)
        os.replace(tmp, stats_path)
        await asyncio.sleep(0.1)


async def main():
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    servers = []
    for i, (listen, host, port) in enumerate(mappings):
        servers.append(await asyncio.start_server(serve(host, port, i == 0), "127.0.0.1", int(listen)))
    writer = asyncio.create_task(write_stats())
    await stop
    writer.cancel()
    for s in servers:
        s.close()


asyncio.run(main())
