import { tasksOfCase } from '../db/tasks.js';
import { RATING_MESSAGE } from '../engine/hotline/contract.js';
import type { System } from './system.js';

/** Demo principals, one per kind of user, created on the first start of an empty database. */
export const DEMO_PRINCIPALS = [
  { name: 'Tổng đài viên 1022 (demo)', roles: ['operator'], agency: 'TONG-DAI-1022' },
  { name: 'Sở Nông nghiệp và Môi trường (demo)', roles: ['agency'], agency: 'SNNMT' },
  { name: 'Công an tỉnh (demo)', roles: ['agency'], agency: 'CONG-AN' },
  { name: 'Văn phòng UBND tỉnh — điều phối (demo)', roles: ['coordinator'], agency: 'VP-UBND' },
  { name: 'Sở Nội vụ — kiểm tra chất lượng (demo)', roles: ['reviewer'], agency: 'SNV' },
  { name: 'Chuyên viên phân tích quy trình (demo)', roles: ['analyst'], agency: 'SNV' },
  { name: 'Kiểm tra viên (demo)', roles: ['auditor'], agency: null },
  { name: 'Quản trị hệ thống (demo)', roles: ['admin'], agency: 'SKHCN' },
] as const;

const DEMO_CASES = [
  {
    title: 'Đường Phạm Văn Thuận ngập nước sau mưa',
    description: 'Mỗi lần mưa lớn, đoạn đường trước chợ Tân Mai ngập sâu 40 cm, xe máy chết máy.',
    channel: 'call',
    citizenName: 'Nguyễn Văn An',
    citizenPhone: '0912345678',
  },
  {
    title: 'Chậm cấp giấy chứng nhận quyền sử dụng đất',
    description: 'Nộp hồ sơ từ tháng 6 tại Long Khánh, quá hạn hẹn trả nhưng chưa có kết quả.',
    channel: 'web',
    citizenName: 'Trần Thị Bình',
    citizenPhone: '0987654321',
  },
  {
    title: 'Tiếng ồn karaoke sau 22 giờ',
    description: 'Quán karaoke trên đường Võ Thị Sáu, Biên Hòa hát đến nửa đêm nhiều ngày liền.',
    channel: 'app',
    citizenName: 'Lê Văn Cường',
    citizenPhone: '0909111222',
  },
];

/**
 * First start of an empty database: create the demo principals (their keys
 * are returned once, to be printed) and a few open cases in Vietnamese so the
 * inboxes are not empty. Nothing is done when any key already exists.
 */
export async function seedDemo(system: System): Promise<Array<{ name: string; roles: readonly string[]; agency: string | null; key: string }> | null> {
  if ((await system.keys.count()) > 0) return null;
  // The cases first, the keys last: a start that fails while seeding (no process deployed, say) stores no key, so the
  // next start seeds again and prints them; keys stored first were never printed, and their secrets are only hashes.
  const operator = { id: 'system:seed', name: 'Dữ liệu mẫu', roles: ['operator'], agency: 'TONG-DAI-1022' };
  for (const variables of DEMO_CASES) {
    await system.runtime.startCase({ processKey: system.defaultProcess, variables, actor: operator });
  }
  await seedFinishedCase(system, operator);
  const created = [];
  for (const p of DEMO_PRINCIPALS) {
    const { key } = await system.keys.create({ name: p.name, roles: [...p.roles], agency: p.agency, createdBy: 'system:seed' });
    created.push({ ...p, key });
  }
  return created;
}

/**
 * One land complaint taken through answer, review and rating, so that an
 * analyst's first dry run (/ui/modeler, "Chạy thử") has a finished case to replay.
 */
async function seedFinishedCase(system: System, operator: { id: string; name: string; roles: string[]; agency: string }) {
  const { runtime, db } = system;
  const kase = await runtime.startCase({
    processKey: system.defaultProcess,
    variables: { title: 'Lấn chiếm hành lang kênh thủy lợi', description: 'Hộ dân xây tường rào lấn ra bờ kênh ở xã Long Thành.', channel: 'call', field: 'DAT-DAI', citizenName: 'Phạm Thị Dung', citizenPhone: '0933444555' },
    actor: operator,
  });
  const nextTask = async () => (await tasksOfCase(db, kase.caseId))[0] as { id: string; element_id: string } | undefined;
  const agency = { id: 'system:seed', name: 'Dữ liệu mẫu', roles: ['agency'], agency: 'SNNMT' };
  const coordinator = { id: 'system:seed', name: 'Dữ liệu mẫu', roles: ['coordinator'], agency: 'VP-UBND' };
  const handle = await nextTask();
  if (handle?.element_id !== 'handle') return; // a customised process: leave it to the analysts
  await runtime.completeTask({ taskId: handle.id, output: { outcome: 'answer', answer: 'Sở đã kiểm tra, lập biên bản và yêu cầu hộ dân tháo dỡ phần lấn chiếm trong 15 ngày.', legalBasis: 'Luật Thủy lợi 2017' }, actor: agency });
  const review = await nextTask();
  if (review?.element_id !== 'review') return;
  await runtime.completeTask({ taskId: review.id, output: { reviewDecision: 'approve', publish: true }, actor: coordinator });
  await runtime.correlateMessage({ code: kase.code, name: RATING_MESSAGE, payload: { satisfied: true }, actor: operator });
}
