import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/connect.js';
import { casesByStatus, jobsByTypeAndStatus, oldestDueJobs, openTasksByGroup } from '../db/metrics.js';
import type { Clock } from '../engine/clock.js';

/**
 * Prometheus metrics of one node. Request and command figures are counted as
 * they happen; queue, case and inbox figures are read from the database at
 * scrape time, so every node reports the same truth.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: Histogram<'method' | 'route' | 'status'>;
  readonly commands: Counter<'command' | 'outcome'>;
  readonly commandSeconds: Histogram<'command'>;

  constructor(db: Db, clock: Clock) {
    collectDefaultMetrics({ register: this.registry, prefix: 'pakn_node_' });
    this.requests = new Histogram({
      name: 'pakn_http_request_duration_seconds',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.commands = new Counter({ name: 'pakn_commands_total', help: 'Case commands by type and outcome', labelNames: ['command', 'outcome'], registers: [this.registry] });
    this.commandSeconds = new Histogram({
      name: 'pakn_command_duration_seconds',
      help: 'Case command duration (one transaction each)',
      labelNames: ['command'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    const fromDb = <L extends string>(name: string, help: string, labelNames: L[], read: (g: Gauge<L>) => Promise<void>) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          this.reset();
          await read(this);
        },
      });
    fromDb('pakn_jobs', 'Jobs by type and status (pending = queue depth; incident = gave up)', ['type', 'status'], async (g) => {
      for (const r of await jobsByTypeAndStatus(db)) g.set({ type: r.type, status: r.status }, r.n);
    });
    fromDb('pakn_jobs_oldest_due_age_seconds', 'Age of the oldest due pending job by type (a growing value means the executor falls behind)', ['type'], async (g) => {
      const now = clock.now();
      for (const r of await oldestDueJobs(db, now)) g.set({ type: r.type }, Math.max(0, (now.getTime() - r.oldest.getTime()) / 1000));
    });
    fromDb('pakn_cases', 'Cases by status', ['status'], async (g) => {
      for (const r of await casesByStatus(db)) g.set({ status: r.status }, r.n);
    });
    fromDb('pakn_open_tasks', 'Open tasks by candidate group (agency or role) and whether they are overdue', ['group', 'overdue'], async (g) => {
      for (const r of await openTasksByGroup(db, clock.now())) g.set({ group: r.group, overdue: String(r.overdue) }, r.n);
    });
  }

  /**
   * pakn_calendar_missing_year{year}: 1 for each year analysts must enter
   * (the current one if missing; from 1 October the next one), so an alert
   * fires months before deadlines fall back to Monday–Friday.
   */
  watchCalendar(missingYears: () => Promise<number[]>): void {
    new Gauge<'year'>({
      name: 'pakn_calendar_missing_year',
      help: 'Years without holiday data that analysts must enter now (1 per year): the current year, and from 1 October the next',
      labelNames: ['year'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const y of await missingYears()) this.set({ year: String(y) }, 1);
      },
    });
  }

  observeCommand(command: string, ms: number, outcome: 'ok' | 'error'): void {
    this.commands.inc({ command, outcome });
    this.commandSeconds.observe({ command }, ms / 1000);
  }
}
