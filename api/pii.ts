import type { Principal } from './auth.js';

/** Case variables that hold a citizen's personal data. */
export const PII_VARIABLES = ['citizenName', 'citizenPhone', 'citizenAddress', 'citizenEmail'];

/**
 * Roles whose work needs the citizen's contact data: operators take the call,
 * agencies and the coordinator answer the citizen, reviewers check the answer.
 * Auditors and analysts see it only with the explicit `pii` grant.
 */
const PII_ROLES = new Set(['operator', 'agency', 'coordinator', 'reviewer', 'pii']);

export function maySeePii(p: Principal): boolean {
  return p.roles.some((r) => PII_ROLES.has(r));
}

export function maskValue(name: string, value: unknown): unknown {
  if (typeof value !== 'string') return value === null || value === undefined ? value : '***';
  if (name === 'citizenPhone') return value.length > 3 ? `${'*'.repeat(value.length - 3)}${value.slice(-3)}` : '***';
  if (name === 'citizenEmail') return value.replace(/^(.).*(@.*)$/, '$1***$2');
  return value ? `${value.slice(0, 1)}***` : value;
}

export function maskVariables(vars: Record<string, unknown>, p: Principal): Record<string, unknown> {
  if (maySeePii(p)) return vars;
  const out: Record<string, unknown> = { ...vars };
  for (const k of PII_VARIABLES) if (k in out) out[k] = maskValue(k, out[k]);
  return out;
}

/** Mask personal data wherever it sits in an event payload (intake variables, form outputs, messages). */
export function maskDeep(value: unknown, p: Principal): unknown {
  if (maySeePii(p)) return value;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const change = v as { name?: string; personal?: boolean; old?: unknown; new?: unknown };
      // A variables.changed entry: {name, old, new, personal: true}
      if (change.personal === true && typeof change.name === 'string') {
        return { ...change, old: maskValue(change.name, change.old), new: maskValue(change.name, change.new) };
      }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = PII_VARIABLES.includes(k) ? maskValue(k, x) : walk(x);
      return out;
    }
    return v;
  };
  return walk(value);
}

/** An auditor holding the explicit pii grant reads data others see masked: such reads are logged. */
export function isExceptionalPiiRead(p: Principal): boolean {
  return p.roles.includes('auditor') && p.roles.includes('pii');
}
