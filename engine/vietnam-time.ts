/**
 * Vietnam time, in one place. Asia/Ho_Chi_Minh has kept UTC+07:00 without
 * daylight saving since 1975, so a fixed offset is exact and needs no tz data.
 */
export const VIETNAM_TIME_ZONE = 'Asia/Ho_Chi_Minh';
export const VIETNAM_OFFSET_MS = 7 * 3_600_000;
export const VIETNAM_OFFSET_TEXT = '+07:00';

/** The same instant as wall-clock fields read with getUTC*(): 00:00 Vietnam time reads as 00:00. */
export function vietnamWall(at: Date | number): Date {
  return new Date(new Date(at).getTime() + VIETNAM_OFFSET_MS);
}

/** The Vietnam calendar date of an instant, YYYY-MM-DD. */
export function vietnamDate(at: Date | number): string {
  return vietnamWall(at).toISOString().slice(0, 10);
}

/** A Vietnam calendar date (YYYY-MM-DD) → the instant its day starts (00:00 +07:00). */
export function vietnamDayStart(date: string): Date {
  return new Date(`${date}T00:00:00${VIETNAM_OFFSET_TEXT}`);
}

/** ISO 8601 with the Vietnam offset, e.g. 2026-12-04T17:00:00+07:00 (milliseconds only when not zero). */
export function formatVietnamTime(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new TypeError('cannot format an invalid Date');
  const wall = vietnamWall(ms).toISOString();
  const millis = wall.slice(19, 23);
  return `${wall.slice(0, 19)}${millis === '.000' ? '' : millis}${VIETNAM_OFFSET_TEXT}`;
}

/** dd/mm/yyyy in Vietnam time, as citizens write dates ('' for anything that is not a date). */
export function vietnameseDate(value: unknown): string {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) return '';
  const d = vietnamWall(ms);
  return `${String(d.getUTCDate()).padStart(2, '0')}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${d.getUTCFullYear()}`;
}
