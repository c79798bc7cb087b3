import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A free loopback TCP port (bound once on port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The newest PostgreSQL server binaries of the machine (Debian's layout, then PATH). */
function pgBin(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(root, versions[0], 'bin');
  }
  return '';
}

/**
 * A throw-away PostgreSQL cluster of the chaos run: its own data folder in the
 * temporary directory, its own port on 127.0.0.1, its socket in its folder, so
 * the machine's cluster (5432) is never touched. PostgreSQL refuses to run as
 * root: as root, initdb and pg_ctl run as the user postgres (runuser).
 */
export class Cluster {
  readonly url: string;
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly asUser: string[],
  ) {
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  static async create(): Promise<Cluster> {
    const bin = pgBin();
    if (!bin) throw new Error('No PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin: install the postgresql package, or give DATABASE_URL.');
    const dir = mkdtempSync(join(tmpdir(), 'pakn-chaos-pg-'));
    const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
    if (asUser.length) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const cluster = new Cluster(dir, await freePort(), bin, asUser);
    await cluster.pg('initdb', ['-D', join(dir, 'data'), '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C', '--no-sync']);
    await cluster.start();
    return cluster;
  }

  private async pg(tool: string, args: string[]): Promise<string> {
    const [cmd, ...pre] = this.asUser.length ? this.asUser : [join(this.bin, tool)];
    const full = this.asUser.length ? [...pre, join(this.bin, tool), ...args] : args;
    const { stdout } = await run(cmd, full, { cwd: this.dir, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  }

  /** Start (or restart after stop) and wait until it accepts connections. */
  async start(): Promise<void> {
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c max_connections=200`;
    await this.pg('pg_ctl', ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'server.log'), '-o', opts, '-w', '-t', '60', 'start']);
  }

  /** Stop as an operator would (fast: running transactions are rolled back, clients disconnected). */
  async stop(): Promise<void> {
    await this.pg('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', '-t', '60', 'stop']);
  }

  /** The server's version string, e.g. "15.14". */
  async version(): Promise<string> {
    const out = await this.pg('postgres', ['--version']);
    return out.trim().replace(/^postgres \(PostgreSQL\) /, '');
  }

  /** Stop (immediately; nothing in it is kept) and remove the folder. */
  async destroy(): Promise<void> {
    try {
      await this.pg('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', '-t', '30', 'stop']);
    } catch {
      /* already stopped */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
