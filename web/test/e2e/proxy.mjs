// A TCP proxy in front of the server, so that a test can drop every connection at once (as a network would).
import net from 'node:net';

/** @param {string} target e.g. http://127.0.0.1:5181 */
export async function startProxy(target) {
  const { hostname, port } = new URL(target);
  /** @type {Set<net.Socket>} */
  const sockets = new Set();
  let accepted = 0;
  let refused = 0;
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      refused++;
      client.destroy();
      return;
    }
    accepted++;
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const addr = /** @type {net.AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${addr.port}`,
    get accepted() {
      return accepted;
    },
    /** Connections refused while refusing. */
    get refused() {
      return refused;
    },
    /** While on, every new connection is closed at once (the server looks down). @param {boolean} on */
    refuse(on) {
      refusing = on;
    },
    /** Destroys every proxied connection (new ones are still accepted). */
    dropAll() {
      const n = sockets.size;
      for (const s of [...sockets]) s.destroy();
      return n;
    },
    async close() {
      this.dropAll();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
