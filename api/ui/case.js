/* global window, document, BpmnJS */
// The case page: the case's own diagram version with the path it took, and its timeline.
(function () {
  'use strict';
  const { showError, askForKey, hasKey } = window.PaknUi;
  const api = (path) => window.PaknUi.api(path, load);
  const code = decodeURIComponent(window.location.pathname.split('/').pop());
  document.getElementById('code').textContent = code;

  const TYPE_LABELS = {
    'case.started': 'Tiếp nhận hồ sơ',
    'case.completed': 'Kết thúc hồ sơ',
    'task.created': 'Giao nhiệm vụ',
    'task.completed': 'Hoàn thành nhiệm vụ',
    'task.claimed': 'Nhận xử lý',
    'task.unclaimed': 'Trả lại nhiệm vụ',
    'comment.added': 'Ý kiến',
    'timer.fired': 'Đến hạn',
    'message.correlated': 'Nhận tin từ công dân',
    'sms.queued': 'Gửi SMS',
    'notification.queued': 'Gửi thông báo',
    'activity.cancelled': 'Hủy bước',
    'pii.read': 'Xem dữ liệu cá nhân',
    'case.migrated': 'Chuyển phiên bản quy trình',
    'decision.evaluated': 'Xác định theo bảng quyết định',
    'incident.opened': 'Sự cố: bước bị giữ lại',
    'incident.resolved': 'Đã xử lý sự cố',
    'call.started': 'Gọi quy trình',
    'call.completed': 'Quy trình được gọi đã xong',
    'call.cancelled': 'Hủy quy trình được gọi',
    'call.error': 'Quy trình được gọi kết thúc với lỗi',
    'variables.changed': 'Cập nhật thông tin hồ sơ',
    'sms.received': 'Nhận SMS từ công dân',
    'sms.delivered': 'SMS đã đến công dân',
    'sms.failed': 'SMS không gửi được',
    'job.retried': 'Gửi lại việc bị lỗi',
    'finding.recorded': 'Kết luận trách nhiệm',
    'case.escalated': 'Chuyển VP UBND tỉnh điều phối',
    'case.transferred': 'Chuyển cơ quan khác',
    'calendar.fallback': 'Tính hạn theo thứ Hai–thứ Sáu (năm chưa có lịch nghỉ)',
    'activity.failed': 'Bước bị lỗi',
  };
  /** Task groups in words: the roles (agency codes are shown as they are, the catalogue's own names). */
  const GROUP_LABELS = { operator: 'tổng đài viên', coordinator: 'điều phối viên', reviewer: 'người duyệt' };

  /** A runtime incident in words: which step is held, which expression gave what, what it waits for. */
  function incidentText(i) {
    const yielded = i.yielded === null || i.yielded === undefined ? 'không có giá trị (null)' : JSON.stringify(i.yielded);
    return (i.kind === 'timer' ? 'Hẹn giờ [' + i.elementId + '] bị giữ, không kích hoạt' : 'Công việc [' + i.elementId + '] chưa được tạo vì không có nhóm xử lý')
      + ': biểu thức ' + i.expression + ' cho ra ' + yielded + '. Hồ sơ chờ đến khi điều phối viên hoặc chuyên viên bổ sung dữ liệu (hoặc chuyển phiên bản).';
  }

  /** Open incidents (coordinators, analysts, auditors see them; for other keys the list is simply absent). */
  async function incidents() {
    try {
      return await api('/v1/cases/' + encodeURIComponent(code) + '/incidents');
    } catch {
      return [];
    }
  }

  function renderIncidents(list, canvas, registry) {
    const open = list.filter((i) => i.status === 'open');
    const box = document.getElementById('incidents');
    box.hidden = open.length === 0;
    const ol = document.getElementById('incident-list');
    ol.textContent = '';
    for (const i of open) {
      const li = document.createElement('li');
      li.dataset.kind = i.kind;
      li.textContent = incidentText(i);
      li.title = i.message;
      ol.append(li);
      if (registry.get(i.elementId)) canvas.addMarker(i.elementId, 'has-problem');
    }
  }

  function renderTimeline(events) {
    const list = document.getElementById('timeline');
    list.textContent = '';
    for (const e of events) {
      if (e.type === 'activity.started' || e.type === 'activity.completed') continue;
      // A boundary timer cancelled because its task ended is bookkeeping, not news.
      if (e.type === 'activity.cancelled' && e.elementType === 'bpmn:BoundaryEvent') continue;
      const li = document.createElement('li');
      li.dataset.type = e.type;
      const when = document.createElement('time');
      when.dateTime = e.at;
      when.textContent = new Date(e.at).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' });
      const what = document.createElement('span');
      const who = e.actor.agency ? e.actor.agency : e.actor.id;
      let detail = '';
      if (e.type === 'task.created' && e.payload.candidateGroups) detail = ' → ' + e.payload.candidateGroups.map((g) => GROUP_LABELS[g] || g).join(', ');
      if (e.type === 'case.migrated') detail = ' v' + e.payload.fromVersion + ' → v' + e.payload.toVersion;
      if (e.type === 'decision.evaluated' && e.payload.result && typeof e.payload.result === 'object') {
        detail = ' → ' + Object.entries(e.payload.result).map(([k, v]) => k + ' ' + v).join(', ');
      }
      const out = e.type === 'task.completed' ? e.payload.output || {} : {};
      if (out.outcome === 'transfer' || out.decision === 'reassign') detail = ' → ' + out.toAgency;
      else if (out.outcome || out.reviewDecision || out.finding) detail = ' (' + (out.outcome || out.reviewDecision || out.finding) + ')';
      if (e.type.startsWith('call.') && e.payload.called) detail = ' ' + e.payload.called.key + ' v' + e.payload.called.version + detail;
      // A step of a called process says which process it belongs to.
      const where = e.payload && e.payload.calledBy && e.payload.process ? '[' + e.payload.process + '] ' : '';
      if (where) li.dataset.process = e.payload.process;
      what.textContent = where + (TYPE_LABELS[e.type] || e.type) + (e.elementName ? ': ' + e.elementName : '') + detail + ' — ' + who;
      li.append(when, what);
      list.append(li);
    }
  }

  /** A diagram with the path a run took: visited elements, visit counts, flows taken, what waits now. */
  async function drawPath(container, path) {
    const viewer = new BpmnJS({ container });
    await viewer.importXML(path.xml);
    const canvas = viewer.get('canvas');
    canvas.zoom('fit-viewport');
    const overlays = viewer.get('overlays');
    const registry = viewer.get('elementRegistry');
    for (const [id, count] of Object.entries(path.visits)) {
      if (!registry.get(id)) continue;
      canvas.addMarker(id, 'visited');
      if (count > 1) {
        const badge = document.createElement('span');
        badge.className = 'visit-count';
        badge.textContent = '×' + count;
        overlays.add(id, 'visits', { position: { top: -10, right: 10 }, html: badge });
      }
    }
    for (const id of path.taken) if (registry.get(id)) canvas.addMarker(id, 'visited');
    for (const id of path.active) if (registry.get(id)) canvas.addMarker(id, 'active');
    return { canvas, registry, overlays };
  }

  /**
   * The processes the case's call activities called, each below the case's diagram with its own path;
   * the call activity on the case's diagram links to it.
   */
  async function renderCalls(calls, registry, overlays) {
    const box = document.getElementById('calls');
    box.textContent = '';
    box.hidden = calls.length === 0;
    for (const [i, call] of calls.entries()) {
      const section = document.createElement('section');
      section.className = 'called';
      section.id = 'call-' + i;
      section.dataset.process = call.process.key;
      section.dataset.callActivity = call.callActivity;
      const from = registry.get(call.callActivity);
      const fromName = (from && from.businessObject && from.businessObject.name) || call.callActivity;
      const title = document.createElement('h2');
      title.textContent = 'Quy trình được gọi: ' + call.process.key + ' phiên bản ' + call.process.version + ' (từ bước “' + fromName + '”)';
      const canvasBox = document.createElement('div');
      canvasBox.className = 'called-diagram';
      section.append(title, canvasBox);
      box.append(section);
      await drawPath(canvasBox, call);
      if (from) {
        const link = document.createElement('a');
        link.className = 'call-link';
        link.href = '#' + section.id;
        link.textContent = 'xem bên dưới: ' + call.process.key;
        link.title = 'Xem đường đi trong quy trình được gọi';
        overlays.add(call.callActivity, 'call-link', { position: { bottom: -4, left: 0 }, html: link });
      }
    }
  }

  async function load() {
    if (!hasKey()) return askForKey(load);
    try {
      const [view, history, held] = await Promise.all([api('/v1/cases/' + encodeURIComponent(code) + '/diagram'), api('/v1/cases/' + encodeURIComponent(code) + '/history'), incidents()]);
      document.getElementById('status').textContent = (view.status === 'completed' ? 'đã kết thúc' : 'đang xử lý') + ' · quy trình ' + view.process.key + ' phiên bản ' + view.process.version;
      const { canvas, registry, overlays } = await drawPath('#diagram', view);
      await renderCalls(view.calls || [], registry, overlays);
      renderIncidents(held, canvas, registry);
      renderTimeline(history.events);
      document.body.dataset.ready = 'true';
    } catch (err) {
      showError(err.message);
    }
  }

  load();
})();
