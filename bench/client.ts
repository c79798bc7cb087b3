import { Agent, request } from 'node:http';

/**
 * The benchmarks' HTTP client: node:http over kept-alive sockets, in the
 * benchmark's own process (so its CPU is taken from the node it measures on
 * the same cores). Issue 20 (docs/performance.md, "seventh pass"): the
 * platform's fetch (undici) cost 0.9–1.6 ms more per request than this, in
 * the same run on the benchmark machine; a client on another machine costs
 * the node nothing.
 */
export class BenchClient {
  private readonly agent = new Agent({ keepAlive: true });
  private readonly host: string;
  private readonly port: number;

  constructor(base: string) {
    const url = new URL(base);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  /** Send a JSON request with the API key; the answer's JSON and the milliseconds until it was read. Throws unless 2xx. */
  call(method: string, path: string, key: string, body?: unknown): Promise<{ ms: number; json: any }> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const data = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string | number> = { authorization: `Bearer ${key}` };
      if (data !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
      const req = request({ host: this.host, port: this.port, path, method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const ms = performance.now() - t0;
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) return reject(new Error(`${method} ${path}: ${status} ${text.slice(0, 300)}`));
          try {
            resolve({ ms, json: text ? JSON.parse(text) : undefined });
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on('error', reject);
      req.end(data);
    });
  }

  /** Close the kept sockets (the server can then close at once). */
  close(): void {
    this.agent.destroy();
  }
}
