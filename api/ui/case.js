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
  };

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
      const [view, history] = await Promise.all([api('/v1/cases/' + encodeURIComponent(code) + '/diagram'), api('/v1/cases/' + encodeURIComponent(code) + '/history')]);
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
      renderTimeline(history.events);
      document.body.dataset.ready = 'true';
    } catch (err) {
      showError(err.message);
    }
  }

  load();
})();
