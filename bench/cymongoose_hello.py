# SPDX-License-Identifier: MIT
# The cymongoose baseline of bench/http-sync and bench/http-async: the hello
# world of the TypeScript firmware and hello.c on cymongoose, the Python binding
# this project started from. Usage: python cymongoose_hello.py sync|async PORT POLL_MS
# Prints "ready" once listening; SIGTERM stops it.
import asyncio
import signal
import sys

import cymongoose

# reply() is cymongoose's only way to end a response: after send() alone
# mongoose would never parse the next request of a kept-alive connection. It
# adds one header line the others do not send, "Content-Type: text/plain".
def on_event(conn, ev, data):
    if ev == cymongoose.MG_EV_HTTP_MSG:
        conn.reply(200, b"hello\n")


def run_sync(url, poll_ms):
    mgr = cymongoose.Manager(on_event)
    mgr.listen(url)
    print("ready", flush=True)
    mgr.run(poll_ms)  # returns on SIGTERM, closing the manager


async def run_async(url, poll_ms):
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    # The handler runs on the AsyncManager's poll thread, as every handler does.
    async with cymongoose.AsyncManager(on_event, poll_interval=poll_ms) as am:
        am.listen(url)
        print("ready", flush=True)
        await stop.wait()


def main():
    mode, port, poll_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    url = f"http://127.0.0.1:{port}"
    if mode == "sync":
        run_sync(url, poll_ms)
    else:
        asyncio.run(run_async(url, poll_ms))


main()
