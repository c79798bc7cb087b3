import { existsSync, readFileSync } from 'node:fs';

/** Message templates, data in processes/sms/templates.json (Vietnamese, owned by Home Affairs). */
/** A {{name}} placeholder of a template. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_]\w*)\s*\}\}/g;

export class SmsTemplates {
  constructor(private readonly templates: Record<string, string>) {}

  static fromFile(file: string): SmsTemplates {
    if (!existsSync(file)) return new SmsTemplates({});
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) if (!k.startsWith('$') && typeof v === 'string') out[k] = v;
    return new SmsTemplates(out);
  }

  has(name: string): boolean {
    return Object.hasOwn(this.templates, name);
  }

  /** Every template with its text, by name: what the modeler's panel offers an analyst. */
  list(): Array<{ name: string; text: string }> {
    return Object.entries(this.templates)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, text]) => ({ name, text }));
  }

  /** Each template's placeholder names, in order ({{code}} → code): what validation checks a diagram against. */
  placeholders(): Record<string, string[]> {
    return Object.fromEntries(Object.entries(this.templates).map(([name, text]) => [name, [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))]]));
  }

  /** Fill {{name}} placeholders; an unknown placeholder becomes empty rather than leaking braces to a citizen. */
  render(name: string, values: Record<string, unknown>): string | null {
    const template = Object.hasOwn(this.templates, name) ? this.templates[name] : undefined;
    if (!template) return null;
    return template.replace(PLACEHOLDER, (_m, key: string) => {
      const v = values[key];
      return v === null || v === undefined ? '' : String(v);
    });
  }
}

export interface SmsMessage {
  to: string;
  text: string;
  /** Stable per message: a provider that honours it never sends one message twice. */
  idempotencyKey: string;
}

export interface SmsGateway {
  readonly name: string;
  send(message: SmsMessage): Promise<{ providerId: string | null }>;
}

/** No provider configured: the message goes to the log (phone masked there). */
export class LogSmsGateway implements SmsGateway {
  readonly name = 'log';
  constructor(private readonly log: (msg: SmsMessage) => void) {}
  async send(message: SmsMessage) {
    this.log(message);
    return { providerId: null };
  }
}

/**
 * An HTTP SMS provider: POST {to, text, reference} with Bearer token and an
 * Idempotency-Key header. Any non-2xx answer or network error throws, and the
 * job executor retries with backoff; the key makes the retry safe.
 */
export class HttpSmsGateway implements SmsGateway {
  readonly name = 'http';
  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(message: SmsMessage) {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': message.idempotencyKey,
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: JSON.stringify({ to: message.to, text: message.text, reference: message.idempotencyKey }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = await res.text();
    if (!res.ok) throw new Error(`SMS provider answered ${res.status}: ${body.slice(0, 200)}`);
    let providerId: string | null = null;
    try {
      providerId = JSON.parse(body)?.id ?? null;
    } catch {
      /* a provider may answer with no body */
    }
    return { providerId };
  }
}

export { vietnameseDate } from '../vietnam-time.js';
