import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The run's own compiled copy (.bench/ is ignored by git; one per run, so two runs never share one): dist/ belongs to npm start and the other developers' builds. */
export const BUILD = join(ROOT, '.bench', `chaos-dist-${process.pid}`);

/**
 * Compile the product's sources once for the run (a node then starts in
 * seconds, not the tens of seconds tsx needs on a busy machine): each file
 * transpiled alone by TypeScript, without type-checking (that is the CI's
 * job, and a full tsc run takes a minute on two busy cores).
 */
export async function build(): Promise<void> {
  rmSync(BUILD, { recursive: true, force: true });
  const files = ['api', 'engine', 'db'].flatMap((dir) => (readdirSync(join(ROOT, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => join(dir, f)));
  for (const file of files) {
    const { outputText } = ts.transpileModule(readFileSync(join(ROOT, file), 'utf8'), {
      fileName: file,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, esModuleInterop: true },
    });
    const out = join(BUILD, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  // ESM output needs to know it is ESM: the package.json above says so ("type": "module").
}

/** One log line of a node, as pino wrote it (JSON), with the time the harness read it. */
export interface LogLine {
  at: number;
  level: number;
  msg: string;
  raw: string;
}

/**
 * One API node: a real `pakn serve --workers 1` (a primary and one worker
 * process; the run's compiled copy, see build) on its own loopback port. Killed
 * with SIGKILL it dies as a crashed machine would: no shutdown hook runs.
 */
export class Node {
  readonly lines: LogLine[] = [];
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly databaseUrl: string,
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(timeoutMs = 300_000): Promise<void> {
    const child = spawn(process.execPath, [join(BUILD, 'api', 'cli.js'), 'serve', '--workers', '1'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NODE_ENV: 'production',
        PORT: String(this.port),
        HOST: '127.0.0.1',
        DATABASE_URL: this.databaseUrl,
        PAKN_SEED_DEMO: 'false',
        PAKN_PROCESSES_DIR: join(ROOT, 'processes'),
        PAKN_JOB_POLL_MS: '200',
        // The chaos clients send far more writes per key than the per-key limit allows; the limit is tested elsewhere.
        PAKN_WRITE_RATE_LIMIT: '0',
        LOG_LEVEL: 'info',
        ...this.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: kill -9 takes the primary and its worker at once, as a crashed machine would.
      detached: true,
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (raw) => {
        let level = 30;
        let msg = raw;
        try {
          const j = JSON.parse(raw);
          level = typeof j.level === 'number' ? j.level : 30;
          msg = String(j.msg ?? '');
        } catch {
          /* a plain line (the banner) */
        }
        this.lines.push({ at: Date.now(), level, msg, raw });
      });
    }
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!this.running) throw new Error(`node ${this.name} exited while starting:\n${this.lines.slice(-20).map((l) => l.raw).join('\n')}`);
      try {
        const res = await fetch(`${this.base}/ready`);
        if (res.status === 200) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`node ${this.name} was not ready after ${timeoutMs / 1000} s`);
  }

  /** kill -9 of the node's processes (primary and worker): they die mid-request, their transactions are cut. */
  async kill9(): Promise<void> {
    if (!this.child) return;
    const wasRunning = this.running;
    try {
      // The whole group, even when the primary is gone already: no worker may outlive the run.
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      /* no such group any more */
    }
    if (wasRunning) await this.exited;
  }

  /** Stop at the end of the run (SIGTERM, then SIGKILL if it hangs). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => void this.kill9(), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
