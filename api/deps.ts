import type { Db } from '../db/connect.js';
import type { Checkpoints } from '../engine/checkpoints.js';
import type { Clock } from '../engine/clock.js';
import type { Catalogue } from '../engine/hotline/catalogue.js';
import type { LiveCalendar } from '../engine/hotline/calendar.js';
import type { DefinitionStore } from '../engine/definitions.js';
import type { DryRun } from '../engine/dry-run.js';
import type { FormStore } from '../engine/forms.js';
import type { Runtime } from '../engine/runtime.js';
import type { ApiKeys, Authenticator } from './auth.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { SmsTemplates } from '../engine/hotline/sms.js';
import type { ResolveHost } from '../engine/hotline/webhook-targets.js';

/** What the HTTP layer needs; built once per process by system.ts. */
export interface AppDeps {
  db: Db;
  definitions: DefinitionStore;
  runtime: Runtime;
  /** Signed checkpoints of the history (engine/checkpoints.ts); without a configured key they cannot be made or checked. */
  checkpoints?: Checkpoints;
  /** Replays finished cases against a candidate diagram or decision file. */
  dryRun: DryRun;
  /** Task forms, by the version a case runs on; message forms installed (engine/forms.ts). */
  forms: FormStore;
  catalogue: Catalogue;
  /** SMS templates (processes/sms/templates.json): the names a diagram's SMS steps may use. */
  smsTemplates?: SmsTemplates;
  /** The working-day calendar as stored (seeded from processes/calendar, changed through the API). */
  calendar?: LiveCalendar | null;
  /** The node's one clock (engine/clock.ts): catalogue validity, report weeks, stamps; a ManualClock in tests. */
  clock: Clock;
  keys: ApiKeys;
  authenticators: Authenticator[];
  log: Logger;
  metrics?: Metrics;
  /** Trust X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy?: boolean;
  /** Writes per API key per minute (0: no limit). */
  writeRateLimitPerMinute: number;
  /** URL prefixes webhook subscriptions may point at (PAKN_WEBHOOK_TARGETS). */
  webhookTargets?: readonly string[];
  /** Resolves a webhook host's addresses for the public-address check; the system resolver unless given (tests). */
  resolveHost?: ResolveHost;
  /** Definition key used when POST /v1/cases names no process. */
  defaultProcess: string;
}
