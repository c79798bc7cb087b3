/**
 * A client that retries as the API guide asks: on a refused or cut
 * connection, on 503 (after its Retry-After) and on 409 "still being
 * processed" (the same Idempotency-Key in flight elsewhere), it sends the
 * same request again, to the next node. Every answer is tallied, with the
 * time it came, so a scenario can say what was answered during an outage.
 */
export interface Answer {
  status: number; // 0: no answer (connection refused, reset, timed out)
  body: any;
  retryAfter: number | null;
  /** When the request was sent and when its answer (or the failure) came. */
  sent: number;
  at: number;
}

export class Tally {
  readonly byStatus: Record<string, number> = {};
  readonly answers: Array<{ sent: number; at: number; status: number; what: string; detail: string }> = [];

  add(a: Answer, what: string) {
    const k = a.status === 0 ? 'no answer' : String(a.status);
    this.byStatus[k] = (this.byStatus[k] ?? 0) + 1;
    this.answers.push({ sent: a.sent, at: a.at, status: a.status, what, detail: a.status >= 500 && a.status !== 503 ? JSON.stringify(a.body).slice(0, 300) : '' });
  }

  count(pred: (s: number) => boolean): number {
    return Object.entries(this.byStatus).reduce((n, [k, v]) => (k !== 'no answer' && pred(Number(k)) ? n + v : n), 0);
  }
}

export async function send(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown, timeoutMs = 30_000): Promise<Answer> {
  const sent = Date.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    const ra = res.headers.get('retry-after');
    return { status: res.status, body: parsed, retryAfter: ra === null ? null : Number(ra), sent, at: Date.now() };
  } catch (err: any) {
    return { status: 0, body: String(err?.cause?.code ?? err?.message ?? err), retryAfter: null, sent, at: Date.now() };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const inProgress = (a: Answer) => a.status === 409 && /still being processed/.test(JSON.stringify(a.body));

/**
 * Send until an answer that is not "try again", rotating over `bases`, for at
 * most `giveUpMs`. Returns the final answer (status 0 if it gave up) and how
 * many attempts it took.
 */
export async function sendRetrying(
  bases: () => string[],
  start: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: unknown,
  tally: Tally,
  what: string,
  giveUpMs = 120_000,
): Promise<{ answer: Answer; attempts: number; retried: boolean }> {
  const until = Date.now() + giveUpMs;
  let attempt = 0;
  for (;;) {
    const list = bases();
    const a = await send(list[(start + attempt) % list.length], method, path, headers, body);
    tally.add(a, what);
    attempt++;
    const again = a.status === 0 || a.status === 503 || inProgress(a) || a.status === 429;
    if (!again || Date.now() > until) return { answer: a, attempts: attempt, retried: attempt > 1 };
    // Retry-After when given (seconds), else a short growing pause.
    await sleep(a.retryAfter !== null && Number.isFinite(a.retryAfter) ? a.retryAfter * 1000 : Math.min(100 * attempt, 1000));
  }
}

/** Run `fn` over 0..n-1 with at most `concurrency` in flight. */
export async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}
