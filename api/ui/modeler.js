/* global window, document, URLSearchParams, DOMParser, DmnJS */
// The analysts' page: open a deployed version of a diagram (bpmn-js) or a
// decision table (dmn-js), edit it, validate it (problems shown on the
// elements of a diagram), dry-run it, deploy it (staged or applied), and
// switch the active version. Read-only for keys that cannot deploy.
// Diagrams are edited with bpmn-js and its properties panel, bundled in
// /ui/assets/modeler-bundle.js (api/ui/modeler.panel.js); the lists the panel
// offers (agencies, forms, SMS templates) are read here, through the API.
(function () {
  'use strict';
  const { showError, askForKey, hasKey } = window.PaknUi;
  // Another key (typed after a 401, or a new #key=… in the address) may have other roles: the page is
  // rebuilt for it by reloading, never by starting a second modeler over the first.
  const restart = () => (modeler ? window.location.reload() : start());
  const api = (path, init) => window.PaknUi.api(path, restart, init);
  window.addEventListener('hashchange', () => {
    const key = new URLSearchParams(window.location.hash.slice(1)).get('key');
    if (!key) return;
    window.sessionStorage.setItem('pakn-key', key);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    window.location.reload();
  });
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
    const xml = await api(versionPath(processKey, $('version').value) + '.xml');
    // The version opened may have forms and templates the active ones do not.
    if (kind === 'bpmn' && canEdit) offer(await formsOf(processKey, $('version').value), templatesIn(xml));
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
    if (modeler.setProblems) modeler.setProblems([]);
  }

  /**
   * What each rule means, in Vietnamese, for the analyst reading the page; the server's English message
   * (with the exact expression) stays in the tooltip. A rule not listed shows the server's message.
   */
  const VI = {
    'feel-unknown-name': (p) => 'Biểu thức đọc biến «' + p.name + '» nhưng tại bước này chưa có gì đặt giá trị cho nó (không có trong dữ liệu tiếp nhận, biểu mẫu của bước trước, kết quả bảng quyết định hay tham số đầu ra).' + (p.suggestion ? ' Có phải ý là «' + p.suggestion + '»?' : ''),
    'ends-without-waiting': () => 'Hồ sơ có thể kết thúc ngay khi vừa tiếp nhận mà không dừng ở bước nào (công việc, tin nhắn hay hẹn giờ): mọi phản ánh sẽ bị đóng ngay.',
    'no-end-event': () => 'Từ sự kiện bắt đầu này không có đường nào tới một sự kiện kết thúc.',
    'start-event-missing': () => 'Quy trình không có sự kiện bắt đầu thông thường (không kèm điều kiện kích hoạt).',
    'unreachable': () => 'Không có đường nào từ sự kiện bắt đầu tới bước này: không hồ sơ nào tới được.',
    'no-incoming-flow': () => 'Bước này không có mũi tên đi vào: máy sẽ chạy nó ngay khi bắt đầu mỗi hồ sơ.',
    'not-feel': () => 'Dùng biểu thức ${…}, loại không bao giờ được tính ở đây: hãy viết FEEL bắt đầu bằng dấu "=".',
    'doctype': () => 'Tệp có khai báo DOCTYPE/ENTITY: không được chấp nhận. Hãy xuất lại sơ đồ từ trang thiết kế.',
    'feel-type': () => 'Biểu thức cho ra sai kiểu: hẹn giờ phải cho ra ngày, giờ hoặc khoảng thời gian; điều kiện phải cho ra đúng/sai.',
    'feel-syntax': () => 'Biểu thức FEEL viết sai cú pháp.',
    'feel-unknown-function': () => 'Biểu thức gọi một hàm không có (không phải hàm FEEL hay hàm lịch làm việc).',
    'timer': () => 'Hẹn giờ không hợp lệ: cần đúng một trong ngày giờ, khoảng thời gian hoặc chu kỳ ISO 8601, hoặc FEEL.',
    'candidate-groups-missing': () => 'Công việc không có nhóm xử lý: không hộp việc nào hiện nó.',
    'candidate-group-unknown': () => 'Nhóm xử lý không phải vai trò hay mã cơ quan trong danh mục.',
    'form-missing': () => 'Không có biểu mẫu (formKey) này: không gửi kèm, không có ở phiên bản trước, không có trong bộ cài sẵn processes/forms.',
    'condition-not-feel': () => 'Điều kiện phải viết bằng FEEL (language="feel").',
    'no-script-task': () => 'Không được dùng script: không đoạn mã nào từ sơ đồ được chạy.',
    'unsupported-element': () => 'Phần tử này máy quy trình không hỗ trợ.',
    'read-element-missing': () => 'Thiếu phần tử mà báo cáo hoặc tin nhắn của tổng đài đọc theo mã: giữ nguyên mã, chỉ đổi nhãn.',
    'impact-timer-at-once': () => 'Các hồ sơ đang mở sẽ kích hoạt hẹn giờ này ngay lập tức nếu áp dụng phiên bản này.',
    'impact-no-candidate-group': () => 'Các hồ sơ đang mở sẽ tới bước này mà không có nhóm xử lý: không ai nhìn thấy công việc.',
  };

  function vietnamese(p) {
    const say = VI[p.rule];
    if (say) return say(p);
    return p.rule.startsWith('bpmnlint/') ? 'Quy tắc vẽ sơ đồ (' + p.rule.slice(9) + '): ' + p.message : p.message;
  }

  function showProblems(problems) {
    clearProblems();
    const registry = kind === 'bpmn' ? modeler.get('elementRegistry') : { get: () => null };
    const perElement = {};
    for (const p of problems) {
      const li = document.createElement('li');
      li.className = p.severity;
      li.dataset.rule = p.rule;
      const element = p.elementId && registry.get(p.elementId);
      const label = element && element.businessObject && element.businessObject.name ? ' «' + element.businessObject.name + '»' : '';
      li.textContent = (p.severity === 'error' ? 'Lỗi' : 'Lưu ý') + (p.elementId ? ' [' + p.elementId + ']' + label : '') + ': ' + vietnamese(p);
      li.title = p.message;
      $('problems').append(li);
      if (element && p.severity === 'error') (perElement[p.elementId] = perElement[p.elementId] || []).push(vietnamese(p));
    }
    // The panel lists the selected element's problems and puts each under the field it is about.
    if (modeler.setProblems) modeler.setProblems(problems.map((p) => Object.assign({}, p, { text: vietnamese(p) })));
    for (const [id, texts] of Object.entries(perElement)) {
      modeler.get('canvas').addMarker(id, 'has-problem');
      marked.push(id);
      // On the element itself: the count, and what is wrong in Vietnamese (hover, or read by a screen reader).
      const badge = document.createElement('span');
      badge.className = 'problem-count';
      badge.textContent = texts.length;
      badge.title = texts.join('\n');
      badge.setAttribute('aria-label', texts.join(' '));
      modeler.get('overlays').add(id, 'problems', { position: { top: -8, left: -8 }, html: badge });
    }
  }

  /** Agencies in force today: the candidate groups the panel offers besides the roles. */
  function agencies() {
    return api('/v1/catalogue/agencies?on=today');
  }

  const CAMUNDA = 'http://camunda.org/schema/1.0/bpmn';
  const versionPath = (key, version) => '/v1/definitions/' + encodeURIComponent(key) + '/versions/' + version;

  /** What the panel offers, filled before the modeler is made and when a version is opened. */
  const panelData = { agencies: [], forms: [], templates: {}, problems: [] };

  /** The form keys a version's tasks can name: its forms, less those of messages (message-<name>). */
  async function formsOf(key, version) {
    return (await api(versionPath(key, version) + '/forms')).forms.map((f) => f.formKey).filter((k) => !k.startsWith('message-'));
  }

  /** The SMS templates the server has (GET /v1/sms/templates), name → text. */
  async function smsTemplates() {
    return Object.fromEntries((await api('/v1/sms/templates')).templates.map((t) => [t.name, t.text]));
  }

  /** Template names a diagram uses: kept on offer even when the server has no such template (the server's problem says so). */
  function templatesIn(xml) {
    const doc = new DOMParser().parseFromString(xml, 'application/xml');
    return [...doc.getElementsByTagNameNS(CAMUNDA, 'property')].filter((el) => el.getAttribute('name') === 'template').map((el) => el.getAttribute('value'));
  }

  /** Adds form keys and template names to the panel's lists (kept sorted, without repeats). */
  function offer(forms, templates) {
    panelData.forms = [...new Set([...panelData.forms, ...forms])].sort();
    panelData.templates = Object.fromEntries([...new Set([...Object.keys(panelData.templates), ...templates])].sort().map((t) => [t, panelData.templates[t] || '']));
  }

  /** Agencies in force today, and the forms and templates of every active diagram. */
  async function loadPanelData(all) {
    const active = all.filter((d) => d.kind !== 'dmn' && d.active);
    const [list, forms, xmls] = await Promise.all([
      agencies(),
      Promise.all(active.map((d) => formsOf(d.key, d.version))),
      Promise.all(active.map((d) => api(versionPath(d.key, d.version) + '.xml'))),
    ]);
    panelData.agencies = list;
    panelData.templates = await smsTemplates();
    offer(forms.flat(), xmls.flatMap(templatesIn));
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

  /** The impact preview in words: what the open cases of the active version would do under the candidate. */
  function showImpact(report) {
    if (!report || report.replacesVersion === null || report.replacesVersion === undefined) return;
    $('impact-result').hidden = false;
    $('impact-summary').textContent = 'Với ' + report.openCases + ' hồ sơ đang mở của phiên bản v' + report.replacesVersion + (report.replayed < report.openCases ? ' (đã chạy lại ' + report.replayed + ')' : '') + ': '
      + report.wait + ' vẫn chờ ở bước cũ, ' + report.move + ' sẽ chuyển bước, ' + report.timerAtOnce + ' sẽ kích hoạt hẹn giờ ngay, '
      + report.noCandidateGroup + ' sẽ tới công việc không có nhóm xử lý, ' + report.failed + ' bị lỗi.';
    document.body.dataset.impact = report.risky ? 'risky' : 'safe';
  }

  async function impact() {
    const report = await api('/v1/definitions/' + encodeURIComponent(processKey) + '/impact', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ xml: await currentXml() }) });
    showImpact(report);
    showProblems(report.problems);
    say(report.risky ? 'Phiên bản này ảnh hưởng tới hồ sơ đang mở: muốn áp dụng phải xác nhận và ghi lý do.' : 'Xem trước ảnh hưởng xong: không có rủi ro cho hồ sơ đang mở.');
  }

  /** A risky version is refused until the analyst ticks the confirmation and writes why; both go to the history. */
  function confirmation() {
    return { confirm: $('confirm-impact').checked || undefined, reason: $('impact-reason').value.trim() || undefined };
  }

  function refusedForImpact(err) {
    const risks = err.body && err.body.problems && err.body.problems.filter((p) => p.rule.startsWith('impact-'));
    if (!risks || !risks.length) return false;
    showProblems(err.body.problems);
    $('impact-confirm').hidden = false;
    say('Chưa áp dụng: phiên bản này ảnh hưởng tới hồ sơ đang mở (xem danh sách). Đánh dấu xác nhận, ghi lý do rồi bấm lại.');
    return true;
  }

  async function deploy() {
    const staged = $('staged').checked;
    const { confirm, reason } = confirmation();
    try {
      const result = await api('/v1/definitions' + (staged ? '?activate=false' : confirm ? '?confirm=true' : ''), {
        method: 'POST',
        headers: Object.assign({ 'content-type': 'application/xml', 'x-deploy-comment': encodeURIComponent($('comment').value || '') }, reason ? { 'x-impact-reason': encodeURIComponent(reason) } : {}),
        body: await currentXml(),
      });
      await loadVersions(result.version);
      showImpact(result.impact);
      say(result.created ? 'Đã triển khai phiên bản v' + result.version + (result.active ? ' và áp dụng cho hồ sơ mới.' : ' (chưa áp dụng).') : 'Sơ đồ giống hệt phiên bản v' + result.version + '.');
      document.body.dataset.deployed = String(result.version);
    } catch (err) {
      if (refusedForImpact(err)) return;
      if (err.body && err.body.problems) showProblems(err.body.problems);
      throw err;
    }
  }

  async function activate() {
    const version = Number($('version').value);
    try {
      const result = await api('/v1/definitions/' + encodeURIComponent(processKey) + '/active', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(Object.assign({ version }, confirmation())) });
      showImpact(result.impact);
    } catch (err) {
      if (refusedForImpact(err)) return;
      throw err;
    }
    await loadVersions(version);
    say('Hồ sơ mới sẽ theo phiên bản v' + version + '.');
  }

  const guarded = (fn) => () => {
    showError('');
    fn().catch((err) => showError(err.message));
  };

  async function start() {
    if (!hasKey()) return askForKey(restart);
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
        // No keyboard.bindTo: the editors bind their shortcuts to the canvas themselves now, and the option logged an error.
        modeler = new DmnJS({ container: '#diagram' });
      } else {
        if (canEdit) await loadPanelData(all);
        modeler = new window.PaknBpmn.Modeler({
          container: '#diagram',
          // Only analysts get the panel: the others cannot deploy what they would change.
          propertiesPanel: canEdit ? { parent: '#properties' } : {},
          paknData: panelData,
        });
        $('properties').hidden = !canEdit;
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
      $('impact').onclick = guarded(impact);
      $('deploy').onclick = guarded(deploy);
      $('activate').onclick = guarded(activate);
      document.body.dataset.ready = 'true';
    } catch (err) {
      showError(err.message);
    }
  }

  start();
})();
