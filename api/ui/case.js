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
  };

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
      if (e.type === 'task.created' && e.payload.candidateGroups) detail = ' → ' + e.payload.candidateGroups.join(', ');
      if (e.type === 'case.migrated') detail = ' v' + e.payload.fromVersion + ' → v' + e.payload.toVersion;
      if (e.type === 'decision.evaluated' && e.payload.result && typeof e.payload.result === 'object') {
        detail = ' → ' + Object.entries(e.payload.result).map(([k, v]) => k + ' ' + v).join(', ');
      }
      const out = e.type === 'task.completed' ? e.payload.output || {} : {};
      if (out.outcome === 'transfer' || out.decision === 'reassign') detail = ' → ' + out.toAgency;
      else if (out.outcome || out.reviewDecision || out.finding) detail = ' (' + (out.outcome || out.reviewDecision || out.finding) + ')';
      what.textContent = (TYPE_LABELS[e.type] || e.type) + (e.elementName ? ': ' + e.elementName : '') + detail + ' — ' + who;
      li.append(when, what);
      list.append(li);
    }
  }

  async function load() {
    if (!hasKey()) return askForKey(load);
    try {
      const [view, history, held] = await Promise.all([api('/v1/cases/' + encodeURIComponent(code) + '/diagram'), api('/v1/cases/' + encodeURIComponent(code) + '/history'), incidents()]);
      document.getElementById('status').textContent = (view.status === 'completed' ? 'đã kết thúc' : 'đang xử lý') + ' · quy trình ' + view.process.key + ' phiên bản ' + view.process.version;
      const viewer = new BpmnJS({ container: '#diagram' });
      await viewer.importXML(view.xml);
      viewer.get('canvas').zoom('fit-viewport');
      const canvas = viewer.get('canvas');
      const overlays = viewer.get('overlays');
      const registry = viewer.get('elementRegistry');
      for (const [id, count] of Object.entries(view.visits)) {
        if (!registry.get(id)) continue;
        canvas.addMarker(id, 'visited');
        if (count > 1) {
          const badge = document.createElement('span');
          badge.className = 'visit-count';
          badge.textContent = '×' + count;
          overlays.add(id, 'visits', { position: { top: -10, right: 10 }, html: badge });
        }
      }
      for (const id of view.taken) if (registry.get(id)) canvas.addMarker(id, 'visited');
      for (const id of view.active) if (registry.get(id)) canvas.addMarker(id, 'active');
      renderIncidents(held, canvas, registry);
      renderTimeline(history.events);
      document.body.dataset.ready = 'true';
    } catch (err) {
      showError(err.message);
    }
  }

  load();
})();
