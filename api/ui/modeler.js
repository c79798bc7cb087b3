/* global window, document, URLSearchParams, BpmnJS, DmnJS */
// The analysts' page: open a deployed version of a diagram (bpmn-js) or a
// decision table (dmn-js), edit it, validate it (problems shown on the
// elements of a diagram), dry-run it, deploy it (staged or applied), and
// switch the active version. Read-only for keys that cannot deploy.
(function () {
  'use strict';
  const { showError, askForKey, hasKey } = window.PaknUi;
  const api = (path, init) => window.PaknUi.api(path, start, init);
  const processKey = new URLSearchParams(window.location.search).get('process') || 'complaint-handling';
  const $ = (id) => document.getElementById(id);
  let modeler = null;
  let canEdit = false;
  let kind = 'bpmn';
  let marked = [];

  /** dmn-js is loaded only when a decision file is opened (it is as large as bpmn-js). */
  function loadDmnJs(editor) {
    for (const css of ['dmn-js-shared.css', 'dmn-js-drd.css', 'dmn-js-decision-table.css', 'dmn-js-decision-table-controls.css', 'dmn-js-literal-expression.css', 'dmn-embedded.css']) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = '/ui/assets/' + css;
      document.head.append(link);
    }
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = '/ui/assets/' + (editor ? 'dmn-modeler.js' : 'dmn-viewer.js');
      script.onload = resolve;
      script.onerror = () => reject(new Error('dmn-js could not be loaded'));
      document.head.append(script);
    });
  }

  /** Keys the page can open: every deployed diagram and decision file. */
  async function loadKeys(all) {
    const box = $('definition');
    box.textContent = '';
    for (const key of [...new Set(all.map((d) => d.key))]) {
      const d = all.find((x) => x.key === key);
      const option = document.createElement('option');
      option.value = key;
      option.textContent = (d.kind === 'dmn' ? 'Bảng quyết định ' : 'Quy trình ') + key;
      box.append(option);
    }
    box.value = processKey;
    box.onchange = () => {
      window.location.search = '?process=' + encodeURIComponent(box.value);
    };
  }

  function say(text) {
    $('message').textContent = text;
  }

  async function loadVersions(select) {
    const all = (await api('/v1/definitions')).filter((d) => d.key === processKey);
    const box = $('version');
    box.textContent = '';
    for (const d of all) {
      const option = document.createElement('option');
      option.value = d.version;
      option.textContent = 'v' + d.version + (d.active ? ' (đang áp dụng)' : '') + (d.comment ? ' — ' + d.comment : '') + (d.runningCases ? ' · ' + d.runningCases + ' hồ sơ đang chạy' : '');
      box.append(option);
    }
    const active = all.find((d) => d.active);
    box.value = String(select || (active ? active.version : all[0] && all[0].version));
    $('status').textContent = active ? 'phiên bản đang áp dụng: v' + active.version : '';
  }

  async function open() {
    const xml = await api('/v1/definitions/' + encodeURIComponent(processKey) + '/versions/' + $('version').value + '.xml');
    await modeler.importXML(xml);
    if (kind === 'dmn') {
      // A routing file is one decision table: open the table, not the requirements diagram.
      const table = modeler.getViews().find((v) => v.type === 'decisionTable');
      if (table) await modeler.open(table);
    } else {
      modeler.get('canvas').zoom('fit-viewport');
    }
    clearProblems();
    say('Đã mở phiên bản v' + $('version').value + '.');
  }

  function clearProblems() {
    $('problems').textContent = '';
    if (kind !== 'bpmn') return;
    const canvas = modeler.get('canvas');
    for (const id of marked) {
      canvas.removeMarker(id, 'has-problem');
      canvas.removeMarker(id, 'diverges');
    }
    marked = [];
    modeler.get('overlays').remove({ type: 'problems' });
  }

  function showProblems(problems) {
    clearProblems();
    const registry = kind === 'bpmn' ? modeler.get('elementRegistry') : { get: () => null };
    const perElement = {};
    for (const p of problems) {
      const li = document.createElement('li');
      li.className = p.severity;
      li.dataset.rule = p.rule;
      li.textContent = (p.severity === 'error' ? 'Lỗi' : 'Lưu ý') + (p.elementId ? ' [' + p.elementId + ']' : '') + ': ' + p.message;
      $('problems').append(li);
      if (p.elementId && registry.get(p.elementId) && p.severity === 'error') perElement[p.elementId] = (perElement[p.elementId] || 0) + 1;
    }
    for (const [id, n] of Object.entries(perElement)) {
      modeler.get('canvas').addMarker(id, 'has-problem');
      marked.push(id);
      const badge = document.createElement('span');
      badge.className = 'problem-count';
      badge.textContent = n;
      modeler.get('overlays').add(id, 'problems', { position: { top: -8, left: -8 }, html: badge });
    }
  }

  async function currentXml() {
    return (await modeler.saveXML({ format: true })).xml;
  }

  async function validate() {
    const result = await api('/v1/definitions/validate', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: await currentXml() });
    showProblems(result.problems);
    const errors = result.problems.filter((p) => p.severity === 'error').length;
    say(errors ? 'Có ' + errors + ' lỗi phải sửa trước khi triển khai.' : 'Không có lỗi' + (result.problems.length ? ' (' + result.problems.length + ' lưu ý).' : '.'));
    return errors === 0;
  }

  /** A step of a dry-run path as an analyst reads it: «name» (id), for whom. */
  function stepText(step) {
    if (!step) return 'kết thúc';
    const groups = step.candidateGroups ? ' — giao ' + (step.candidateGroups.join(', ') || 'không ai') : '';
    const answer = step.decision && typeof step.decision === 'object'
      ? ' — kết quả ' + Object.entries(step.decision).map(([k, v]) => k + ' ' + v).join(', ')
      : step.decision !== undefined ? ' — kết quả ' + step.decision : '';
    return '«' + (step.name || step.elementId) + '» (' + step.elementId + ')' + groups + answer;
  }

  async function dryRun() {
    const report = await api('/v1/definitions/' + encodeURIComponent(processKey) + '/dry-run', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ xml: await currentXml(), last: 20 }),
    });
    const canvas = kind === 'bpmn' ? modeler.get('canvas') : { addMarker() {}, removeMarker() {} };
    const registry = kind === 'bpmn' ? modeler.get('elementRegistry') : { get: () => null };
    for (const id of marked) canvas.removeMarker(id, 'diverges');
    $('dryrun-result').hidden = false;
    $('dryrun-summary').textContent = report.replayed
      ? 'Đã chạy lại ' + report.replayed + ' hồ sơ: ' + report.same + ' đi đúng đường cũ, ' + report.diverged + ' đi khác, ' + report.failed + ' bị lỗi.'
      : 'Chưa có hồ sơ nào đã xong để chạy thử.';
    const list = $('dryrun-cases');
    list.textContent = '';
    for (const c of report.cases.filter((x) => x.outcome !== 'same')) {
      const li = document.createElement('li');
      li.className = c.outcome;
      const d = c.divergence;
      li.textContent = c.code + ' (v' + c.version + '): ' + (c.outcome === 'failed' ? 'lỗi — ' + d.message : 'trước: ' + stepText(d.recorded) + '; nay: ' + stepText(d.replayed));
      list.append(li);
      // A failed replay stopped at the last step it reached; a diverging one at the step that differs.
      const at = c.outcome === 'failed' ? c.replayedPath[c.replayedPath.length - 1] : d && ((d.replayed && d.replayed.elementId) || (d.recorded && d.recorded.elementId));
      if (at && registry.get(at)) {
        canvas.addMarker(at, 'diverges');
        marked.push(at);
      }
    }
    say('Chạy thử xong: không có gì được ghi.');
    document.body.dataset.dryRun = String(report.replayed);
  }

  async function deploy() {
    const staged = $('staged').checked;
    try {
      const result = await api('/v1/definitions' + (staged ? '?activate=false' : ''), {
        method: 'POST',
        headers: { 'content-type': 'application/xml', 'x-deploy-comment': encodeURIComponent($('comment').value || '') },
        body: await currentXml(),
      });
      await loadVersions(result.version);
      say(result.created ? 'Đã triển khai phiên bản v' + result.version + (result.active ? ' và áp dụng cho hồ sơ mới.' : ' (chưa áp dụng).') : 'Sơ đồ giống hệt phiên bản v' + result.version + '.');
      document.body.dataset.deployed = String(result.version);
    } catch (err) {
      if (err.body && err.body.problems) showProblems(err.body.problems);
      throw err;
    }
  }

  async function activate() {
    const version = Number($('version').value);
    await api('/v1/definitions/' + encodeURIComponent(processKey) + '/active', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version }) });
    await loadVersions(version);
    say('Hồ sơ mới sẽ theo phiên bản v' + version + '.');
  }

  const guarded = (fn) => () => {
    showError('');
    fn().catch((err) => showError(err.message));
  };

  async function start() {
    if (!hasKey()) return askForKey(start);
    try {
      const me = await api('/v1/me');
      canEdit = me.roles.includes('analyst');
      for (const el of document.querySelectorAll('.edit-only')) el.hidden = !canEdit;
      $('process').textContent = processKey;
      const all = await api('/v1/definitions');
      await loadKeys(all);
      const opened = all.find((d) => d.key === processKey);
      if (!opened) throw new Error('Không có quy trình hay bảng quyết định "' + processKey + '". No such definition.');
      kind = opened.kind;
      if (kind === 'dmn') {
        $('kind').textContent = 'Bảng quyết định';
        await loadDmnJs(canEdit);
        modeler = new DmnJS({ container: '#diagram', common: { keyboard: { bindTo: window } } });
      } else {
        modeler = new BpmnJS({ container: '#diagram', keyboard: { bindTo: window } });
      }
      window.paknModeler = modeler; // for browser tests and the console
      await loadVersions();
      await open();
      if (!canEdit) {
        // Viewer mode: no palette, no context pad, no pointer editing (the server refuses writes anyway).
        $('diagram').classList.add('read-only');
        say('Chế độ xem: khóa này không được triển khai ' + (kind === 'dmn' ? 'bảng quyết định.' : 'quy trình.'));
      }
      $('open').onclick = guarded(open);
      $('validate').onclick = guarded(validate);
      $('dryrun').onclick = guarded(dryRun);
      $('deploy').onclick = guarded(deploy);
      $('activate').onclick = guarded(activate);
      document.body.dataset.ready = 'true';
    } catch (err) {
      showError(err.message);
    }
  }

  start();
})();
