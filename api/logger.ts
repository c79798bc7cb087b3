import { pino, type Logger } from 'pino';
import { PERSONAL_VARIABLES } from '../engine/hotline/contract.js';

export type { Logger };

/**
 * Personal data never reaches a log line in clear: citizens' names, phones,
 * addresses and e-mails are redacted wherever they appear in a logged object,
 * and API keys with them.
 */
const PII_KEYS = [...PERSONAL_VARIABLES, 'phone', 'authorization', 'apiKey'];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'pakn' },
      redact: {
        paths: PII_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `req.headers.${k}`]),
        censor: '[masked]',
      },
    },
    destination as any,
  );
}
