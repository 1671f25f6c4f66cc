"""A load balancer for the tests: a TCP proxy on a loopback port that hands each new connection to the next of its
upstream servers in turn (no sticky sessions). HTTP requests on one kept-alive connection stay on its server; every
WebSocket and every new connection goes to the next one.

    python3 round_robin_proxy.py LISTEN_PORT UPSTREAM_PORT [UPSTREAM_PORT ...]
"""

import asyncio
import itertools
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main() -> None:
    listen_port = int(sys.argv[1])
    upstreams = itertools.cycle(int(port) for port in sys.argv[2:])

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        port = next(upstreams)
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print(f"round-robin proxy on 127.0.0.1:{listen_port} -> {sys.argv[2:]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
