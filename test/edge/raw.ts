import { connect, type Socket } from "node:net";

/** Host and port of an "http://host:port" URL. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/**
 * Writes `chunks` on a fresh TCP connection (each after the previous is flushed, `pauseMs` apart) and
 * resolves to every byte the server sent until it closed the connection.
 */
export function exchange(url: string, chunks: readonly string[], pauseMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(hostPort(url));
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      received += d;
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(received));
    socket.on("connect", async () => {
      for (const c of chunks) {
        if (socket.destroyed) return;
        await new Promise((r) => socket.write(c, "latin1", r));
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
  });
}

/** The HTTP/1.1 responses in a raw byte stream: status and body (bodies with Content-Length only). */
export function responses(raw: string): Array<{ status: number; headers: string; body: string }> {
  const out: Array<{ status: number; headers: string; body: string }> = [];
  let rest = raw;
  while (rest.startsWith("HTTP/1.1 ")) {
    const end = rest.indexOf("\r\n\r\n");
    const head = rest.slice(0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    out.push({
      status: Number(head.slice(9, 12)),
      headers: head,
      body: rest.slice(end + 4, end + 4 + length),
    });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}
