// A TCP proxy on loopback whose connections a test can cut at once (both sides closed mid-stream),
// like a dropped Wi-Fi link between a browser and the server. New connections work again at once.
import type { Socket } from "bun";

interface Side {
  peer?: Socket<Side>;
  queue: Uint8Array[];
  closed?: boolean;
}

function send(to: Socket<Side> | undefined, pending: Uint8Array[], data: Uint8Array): void {
  if (!to || pending.length) {
    pending.push(data);
    return;
  }
  const n = to.write(data);
  if (n < data.length) pending.push(data.subarray(n));
}

function flush(s: Socket<Side>, pending: Uint8Array[]): void {
  while (pending.length) {
    const d = pending[0]!;
    const n = s.write(d);
    if (n < d.length) {
      pending[0] = d.subarray(n);
      return;
    }
    pending.shift();
  }
}

export interface CutProxy {
  url: string;
  /** Closes every open connection now, in both directions. */
  cutAll(): number;
  stop(): void;
}

export function startCutProxy(upstreamPort: number): CutProxy {
  const open = new Set<Socket<Side>>();
  const server = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        client.data = { queue: [] };
        open.add(client);
        // bytes for upstream wait in client.data.queue until it connects; bytes for the client in up.data.queue
        void Bun.connect<Side>({
          hostname: "127.0.0.1",
          port: upstreamPort,
          socket: {
            open(up) {
              up.data = { peer: client, queue: [] };
              client.data.peer = up;
              open.add(up);
              flush(up, client.data.queue);
            },
            data(up, d) {
              send(client, up.data.queue, new Uint8Array(d));
            },
            drain(up) {
              flush(up, client.data.queue);
            },
            close(up) {
              open.delete(up);
              client.end();
            },
            error() {},
          },
        }).catch(() => client.end());
      },
      data(client, d) {
        // upstream's pending output lives in the client side's queue and vice versa
        const up = client.data.peer;
        send(up, client.data.queue, new Uint8Array(d));
      },
      drain(client) {
        const up = client.data.peer;
        if (up) flush(client, up.data.queue);
      },
      close(client) {
        open.delete(client);
        client.data.peer?.end();
      },
      error() {},
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/`,
    cutAll() {
      const n = open.size;
      for (const s of [...open]) s.terminate();
      open.clear();
      return n;
    },
    stop() {
      for (const s of open) s.terminate();
      server.stop(true);
    },
  };
}
