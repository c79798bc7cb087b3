/**
 * npm run simulate -- --weeks 4 --per-day 150 [--seed 7] [--until 2026-11-30]
 *
 * Drives realistic traffic through the HTTP API and the job executor so the
 * reports and the dashboard can be seen on real-looking data: intake on every
 * channel, classification, routing, answers, transfers, returns, requests for
 * information, reviews, ratings, reminders and escalations when deadlines pass.
 * Simulated time runs from `weeks` before `until` (default today, Vietnam time) to that day: the JavaScript clock is moved
 * (Date only, with @sinonjs/fake-timers), and every timestamp the system
 * writes comes from that clock, so deadlines pass and timers fire as they
 * would have. Uses the configured database (DATABASE_URL or PAKN_DATA_DIR);
 * never run it against production.
 */
import { casesWaitingAtTimers } from '../db/jobs.js';
import { RATING_MESSAGE, RATING_WAIT_ELEMENT } from '../engine/hotline/contract.js';
import FakeTimers from '@sinonjs/fake-timers';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { createApp } from '../api/app.js';
import { loadConfig } from '../api/config.js';
import { createLogger } from '../api/logger.js';
import { createSystem, deployProcesses } from '../api/system.js';
import { listInbox } from '../db/inbox.js';
import { systemClock } from '../engine/clock.js';
import { vietnamDate, vietnamDayStart, vietnamWall } from '../engine/vietnam-time.js';

const { values } = parseArgs({ options: { weeks: { type: 'string', default: '4' }, 'per-day': { type: 'string', default: '150' }, seed: { type: 'string', default: '7' }, until: { type: 'string' } } });
const WEEKS = Number(values.weeks);
const PER_DAY = Number(values['per-day']);
const UNTIL = values.until;
if (!(WEEKS >= 1 && WEEKS <= 52) || !(PER_DAY >= 1 && PER_DAY <= 2000) || (UNTIL !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(UNTIL) || Number.isNaN(vietnamDayStart(UNTIL).getTime())))) {
  console.error('Usage: npm run simulate -- --weeks 1..52 --per-day 1..2000 [--seed N] [--until YYYY-MM-DD]');
  process.exit(2);
}

// A small deterministic generator: the same seed gives the same traffic.
let state = Number(values.seed) >>> 0 || 7;
const random = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
const weighted = <T>(items: Array<[T, number]>): T => {
  let r = random() * items.reduce((n, [, w]) => n + w, 0);
  for (const [item, w] of items) if ((r -= w) < 0) return item;
  return items[items.length - 1][0];
};

const FIELDS: Array<[string, number]> = [['DAT-DAI', 18], ['XAY-DUNG', 14], ['MOI-TRUONG', 10], ['GIAO-THONG', 9], ['DIEN', 8], ['CAP-NUOC', 7], ['Y-TE', 6], ['GIAO-DUC', 5], ['AN-NINH-TRAT-TU', 6], ['BHXH', 4], ['THUE', 3], ['TU-PHAP', 5], ['KHAC', 5]];
const TITLES: Record<string, string[]> = {
  'DAT-DAI': ['Chậm cấp giấy chứng nhận quyền sử dụng đất', 'Tranh chấp ranh giới thửa đất', 'Lấn chiếm đất công'],
  'XAY-DUNG': ['Xây dựng không phép', 'Công trình gây nứt nhà liền kề', 'Chậm cấp phép xây dựng'],
  'MOI-TRUONG': ['Xả nước thải ra kênh', 'Khói bụi từ cơ sở sản xuất', 'Rác thải ùn ứ'],
  'GIAO-THONG': ['Đường hư hỏng nặng', 'Đèn tín hiệu không hoạt động', 'Xe quá tải làm hỏng đường'],
  DIEN: ['Mất điện kéo dài', 'Hóa đơn tiền điện tăng bất thường'],
  'CAP-NUOC': ['Nước sinh hoạt đục', 'Mất nước nhiều ngày'],
  'Y-TE': ['Thái độ nhân viên y tế', 'Thu phí khám bệnh sai quy định'],
  'GIAO-DUC': ['Lạm thu đầu năm học', 'Thiếu giáo viên'],
  'AN-NINH-TRAT-TU': ['Tụ tập gây mất trật tự ban đêm', 'Karaoke gây ồn sau 22 giờ'],
  BHXH: ['Chậm chi trả bảo hiểm xã hội một lần'],
  THUE: ['Vướng mắc quyết toán thuế thu nhập cá nhân'],
  'TU-PHAP': ['Chậm đăng ký khai sinh', 'Chứng thực bản sao mất nhiều thời gian'],
  KHAC: ['Góp ý cải cách thủ tục hành chính'],
};
const NAMES = ['Nguyễn Văn An', 'Trần Thị Bình', 'Lê Văn Cường', 'Phạm Thị Dung', 'Hoàng Văn Em', 'Võ Thị Hoa', 'Đặng Văn Hùng', 'Bùi Thị Lan', 'Đỗ Văn Minh', 'Huỳnh Thị Ngọc'];
const COMMUNES = ['X-LONG-THANH', 'X-NHON-TRACH', 'X-TRANG-BOM', 'X-XUAN-LOC', 'P-TAM-HIEP', 'P-TRAN-BIEN', 'P-LONG-KHANH'];
const AGENCIES = ['SNNMT', 'SXD', 'SYT', 'SGDDT', 'SCT', 'CONG-AN', 'DIEN-LUC', 'CAP-NUOC', 'BHXH', 'STP', 'VP-UBND'];

const DAY = 86_400_000;
const today = vietnamDayStart(UNTIL ?? vietnamDate(systemClock.now())).getTime(); // 00:00 of the last simulated day, Vietnam time
const start = today - WEEKS * 7 * DAY;
const clock = FakeTimers.withGlobal(globalThis).install({ now: start + 8 * 3_600_000, toFake: ['Date'], shouldAdvanceTime: true });

const config = loadConfig();
const log = createLogger('warn');
const system = await createSystem(config, { log });
await deployProcesses(system, config.processesDir ?? join(process.cwd(), 'processes'));
const key = async (roles: string[], agency: string | null, name: string) => (await system.keys.create({ name, roles, agency, createdBy: 'simulate' })).key;
const keys: Record<string, string> = {
  operator: await key(['operator'], 'TONG-DAI-1022', 'Mô phỏng: tổng đài viên'),
  coordinator: await key(['coordinator'], 'VP-UBND', 'Mô phỏng: VP UBND tỉnh'),
  reviewer: await key(['reviewer'], 'SNV', 'Mô phỏng: Sở Nội vụ'),
};
const keyFor = async (group: string) => (keys[group] ??= await key(['agency'], group, `Mô phỏng: ${group}`));

const server = createApp(system).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const call = async (method: string, path: string, k: string, body?: unknown) => {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json: any = await res.json().catch(() => null);
  return { status: res.status, body: json };
};

const counts: Record<string, number> = {};
const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);

async function workTheInboxes() {
  // Every open task with its case (the inbox of a role that oversees all), as one list.
  const open = await listInbox(system.db, { groups: null, assignee: '', now: system.clock.now(), limit: 1_000_000 });
  for (const t of open) {
    const group = t.candidate_groups[0];
    const k = group === 'operator' ? keys.operator : group === 'coordinator' ? keys.coordinator : group === 'reviewer' ? keys.reviewer : await keyFor(group);
    let body: Record<string, unknown> | null = null;
    if (t.element_id === 'classify') body = { field: weighted(FIELDS), unit: pick(COMMUNES) };
    else if (t.element_id === 'handle') {
      const r = random();
      if (r < 0.3) body = { outcome: 'answer', answer: 'Cơ quan đã kiểm tra, xử lý và trả lời công dân theo quy định.' };
      else if (r < 0.34) body = { outcome: 'transfer', toAgency: pick(AGENCIES.filter((a) => a !== group && a !== 'VP-UBND')), transferReason: 'Nội dung thuộc thẩm quyền cơ quan khác' };
      else if (r < 0.36) body = { outcome: 'notCompetent', returnReason: 'Không thuộc thẩm quyền giải quyết' };
      else if (r < 0.38) body = { outcome: 'moreInfo', question: 'Đề nghị cung cấp địa chỉ cụ thể' };
    } else if (t.element_id === 'coordinate') body = random() < 0.7 ? { decision: 'reassign', toAgency: pick(AGENCIES.filter((a) => a !== 'VP-UBND')) } : { decision: 'answer', answer: 'VP UBND tỉnh chỉ đạo và trả lời công dân.' };
    else if (t.element_id === 'review') body = random() < 0.9 ? { reviewDecision: 'approve', publish: random() < 0.3 } : { reviewDecision: 'sendBack', reviewComment: 'Trả lời chưa đủ căn cứ pháp lý' };
    else if (t.element_id === 'accountability') body = { finding: weighted([['none', 5], ['buck-passing', 2], ['irresponsibility', 1], ['wrong-answer', 1]]), findingAgency: typeof t.variables.agency === 'string' ? t.variables.agency : 'VP-UBND' };
    if (!body) continue;
    const res = await call('POST', `/v1/tasks/${t.id}/complete`, k, body);
    count(res.status === 200 ? `${t.element_id}:${String(body.outcome ?? body.decision ?? body.reviewDecision ?? body.finding ?? 'done')}` : `error:${res.status}`);
  }
  // Citizens rate answers and send information that was asked for.
  const waiting = await casesWaitingAtTimers(system.db, [RATING_WAIT_ELEMENT, 'infoTimeout']);
  for (const w of waiting) {
    if (random() < 0.5) continue;
    // 409: the case moved on since the list was read (its rating window just closed): nothing to do.
    if (w.element_id === RATING_WAIT_ELEMENT) count((await call('POST', `/v1/cases/${w.code}/messages/${RATING_MESSAGE}`, keys.operator, { satisfied: random() < 0.8 })).status === 200 ? 'rated' : 'rating-too-late');
    else count((await call('POST', `/v1/cases/${w.code}/messages/citizen-info`, keys.operator, { citizenInfo: 'Công dân bổ sung địa chỉ' })).status === 200 ? 'info-supplied' : 'info-too-late');
  }
}

for (let day = start; day < today + DAY; day += DAY) {
  const weekday = vietnamWall(day).getUTCDay();
  clock.setSystemTime(day + 8 * 3_600_000);
  const n = weekday === 0 || weekday === 6 ? Math.round(PER_DAY * 0.3) : PER_DAY;
  for (let i = 0; i < n; i++) {
    const field = weighted(FIELDS);
    const classified = random() < 0.6;
    const res = await call('POST', '/v1/cases', keys.operator, {
      variables: {
        title: pick(TITLES[field] ?? TITLES.KHAC),
        description: 'Nội dung phản ánh do tổng đài viên ghi nhận.',
        channel: weighted([['call', 6], ['web', 2], ['app', 2], ['sms', 1], ['zalo', 1], ['email', 1]]),
        citizenName: pick(NAMES),
        citizenPhone: `09${String(Math.floor(random() * 1e8)).padStart(8, '0')}`,
        ...(classified ? { field, unit: pick(COMMUNES) } : {}),
      },
    });
    count(res.status === 201 ? 'received' : `error:intake:${res.status}`);
  }
  if (weekday !== 0 && weekday !== 6) {
    clock.setSystemTime(day + 14 * 3_600_000);
    await workTheInboxes();
  }
  clock.setSystemTime(day + 23 * 3_600_000);
  counts.jobsRun = (counts.jobsRun ?? 0) + (await system.executor.drain());
  process.stdout.write(`${vietnamDate(day)} ${JSON.stringify(counts)}\n`);
}

clock.uninstall();
await new Promise<void>((r) => server.close(() => r()));
await system.close();
console.log(`Simulated ${WEEKS} week(s), ${PER_DAY} complaints per working day:`, counts);
