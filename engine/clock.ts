import { parseDate, parseDateTime, type FeelDate, type FeelDateTime } from 'feelin';
import { formatVietnamTime, vietnamDate } from './vietnam-time.js';

/**
 * The one clock. Every component that needs "now" receives a Clock; nothing
 * else in the product reads the system time (engine/bpmn.ts hands this clock
 * to bpmn-elements' timers through the patch in patches/). Tests drive time
 * with a ManualClock instead of sleeping.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that moves only when told: for tests, dry runs and replays. */
export class ManualClock implements Clock {
  private ms: number;

  constructor(start: Date | string) {
    this.ms = new Date(start).getTime();
    if (Number.isNaN(this.ms)) throw new TypeError(`ManualClock needs a valid start, got ${String(start)}`);
  }

  now(): Date {
    return new Date(this.ms);
  }

  set(at: Date | string): void {
    this.ms = new Date(at).getTime();
  }

  /** Move forward by milliseconds (or an object with days/hours/minutes/seconds). */
  advance(by: number | { days?: number; hours?: number; minutes?: number; seconds?: number }): Date {
    const ms = typeof by === 'number' ? by : (((by.days ?? 0) * 24 + (by.hours ?? 0)) * 60 + (by.minutes ?? 0)) * 60_000 + (by.seconds ?? 0) * 1000;
    this.ms += ms;
    return this.now();
  }
}

/**
 * FEEL's now() and today() by `clock`, in Vietnam time. feelin's own read the
 * system time (so a diagram's `=add working days(now(), 1)` would ignore the
 * injected clock) and answer in the host's zone, UTC on a server: between
 * 00:00 and 07:00 in Vietnam, today() was yesterday. Here now() is a date
 * and time at +07:00 and today() the Vietnam calendar date, the same zone
 * as deadlines (engine/vietnam-time.ts). These go into the FEEL functions of
 * whatever evaluates a case's expressions (the engine, a task's deadline).
 */
export function feelClock(clock: Clock): Record<string, () => unknown> {
  const now = () => parseDateTime(formatVietnamTime(clock.now())) as FeelDateTime;
  return {
    now,
    today: () => parseDate(vietnamDate(clock.now())) as FeelDate,
  };
}
