/* global window, document, URLSearchParams */
// The analysts' form editor: open a form of a deployed version of a diagram,
// edit its JSON Schema (checked as it is typed, errors in Vietnamese), see the
// fields as an agency will, and deploy the diagram again with the edited form
// as a new version. Running cases keep the forms of their own version.
(function () {
  'use strict';
  const { showError, askForKey, hasKey } = window.PaknUi;
  let started = false;
  const restart = () => (started ? window.location.reload() : start());
  const api = (path, init) => window.PaknUi.api(path, restart, init);
  const params = new URLSearchParams(window.location.search);
  const processKey = params.get('process') || 'complaint-handling';
  const $ = (id) => document.getElementById(id);
  /** The forms of the opened version, by key (the edited one replaced when deploying). */
  let forms = {};
  let formKey = null;
  let canEdit = false;
  const TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object', 'null'];

  function say(text) {
    $('message').textContent = text;
  }

  /** "line 3 column 5" from the browser's JSON error (its words are English), or from its character position. */
  function jsonErrorPlace(text, err) {
    const lc = /line (\d+) column (\d+)/.exec(err.message);
    if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
    const pos = /position (\d+)/.exec(err.message);
    if (!pos) return null;
    const before = text.slice(0, Number(pos[1])).split('\n');
    return { line: before.length, column: before[before.length - 1].length + 1 };
  }

  /** What is wrong with the schema as typed, in Vietnamese; the server checks it again on deploy. */
  function localProblems(text) {
    let schema;
    try {
      schema = JSON.parse(text);
    } catch (err) {
      const at = jsonErrorPlace(text, err);
      return { schema: null, problems: ['Lỗi cú pháp JSON' + (at ? ' ở dòng ' + at.line + ', cột ' + at.column : '') + ': kiểm tra dấu phẩy, ngoặc và dấu nháy kép.'] };
    }
    const problems = [];
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return { schema: null, problems: ['Biểu mẫu phải là một đối tượng JSON { … }.'] };
    if (schema.type !== 'object') problems.push('Thuộc tính "type" phải là "object": bước được hoàn thành bằng các trường có tên.');
    if ('$id' in schema) problems.push('Bỏ "$id": biểu mẫu được gọi theo khóa và phiên bản của quy trình.');
    const props = schema.properties;
    if (props === undefined || props === null || typeof props !== 'object' || Array.isArray(props)) {
      problems.push('Thiếu "properties" (một đối tượng): khai báo các trường của biểu mẫu.');
    } else {
      for (const [name, field] of Object.entries(props)) {
        if (!field || typeof field !== 'object' || Array.isArray(field)) {
          problems.push('Trường "' + name + '" phải là một đối tượng mô tả trường.');
          continue;
        }
        const types = [].concat(field.type === undefined ? [] : field.type);
        for (const t of types) if (!TYPES.includes(t)) problems.push('Trường "' + name + '": kiểu "' + t + '" không hợp lệ (dùng string, number, integer, boolean, array hoặc object).');
        if (field.enum !== undefined && (!Array.isArray(field.enum) || !field.enum.length)) problems.push('Trường "' + name + '": "enum" phải là danh sách các giá trị được chọn.');
        for (const k of ['minLength', 'maxLength', 'minimum', 'maximum']) {
          if (field[k] !== undefined && typeof field[k] !== 'number') problems.push('Trường "' + name + '": "' + k + '" phải là một số.');
        }
        if (typeof field.pattern === 'string') {
          try {
            new RegExp(field.pattern, 'u');
          } catch {
            problems.push('Trường "' + name + '": biểu thức "pattern" không hợp lệ.');
          }
        }
      }
      if (schema.required !== undefined) {
        if (!Array.isArray(schema.required)) problems.push('"required" phải là danh sách tên trường.');
        else for (const r of schema.required) if (!(r in props)) problems.push('Trường bắt buộc "' + r + '" không có trong "properties".');
      }
    }
    return { schema, problems };
  }

  /** The server's problems (English for developers), worded for the analyst. */
  function serverProblem(p) {
    const words = {
      'form-schema': 'Biểu mẫu không phải JSON Schema hợp lệ',
      'form-missing': 'Một bước dùng biểu mẫu không có trong phiên bản',
      'form-unused': 'Biểu mẫu không được bước nào dùng',
    };
    const what = words[p.rule] || (p.rule && p.rule.startsWith('impact-') ? 'Ảnh hưởng tới hồ sơ đang mở' : 'Máy chủ từ chối (' + p.rule + ')');
    return (p.severity === 'warning' ? 'Cảnh báo — ' : '') + what + (p.elementId ? ' tại bước ' + p.elementId : '') + ': ' + p.message;
  }

  function showProblems(list, severity) {
    const box = $('form-errors');
    box.textContent = '';
    for (const item of list) {
      const li = document.createElement('li');
      li.textContent = typeof item === 'string' ? item : serverProblem(item);
      if (severity === 'warning' || (item && item.severity === 'warning')) li.className = 'warning';
      box.append(li);
    }
  }

  /** Render the fields as an agency's clerk will see them (what the agency's own system draws may differ). */
  function renderPreview(schema) {
    const form = $('preview');
    form.textContent = '';
    if (!schema) return;
    if (schema.title) {
      const h = document.createElement('h3');
      h.textContent = schema.title;
      form.append(h);
    }
    if (schema.description) {
      const p = document.createElement('p');
      p.className = 'hint';
      p.textContent = schema.description;
      form.append(p);
    }
    const required = Array.isArray(schema.required) ? schema.required : [];
    for (const [name, field] of Object.entries(schema.properties || {})) {
      if (!field || typeof field !== 'object') continue;
      const wrap = document.createElement('div');
      wrap.className = 'field';
      wrap.dataset.field = name;
      const id = 'field-' + name;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = field.title || name;
      if (required.includes(name)) {
        const star = document.createElement('span');
        star.className = 'required';
        star.textContent = ' *';
        star.title = 'bắt buộc';
        label.append(star);
      }
      wrap.append(label);
      const type = [].concat(field.type || [])[0];
      let control;
      if (Array.isArray(field.enum)) {
        control = document.createElement('select');
        control.append(new window.Option('— chọn —', ''));
        for (const v of field.enum) control.append(new window.Option(String(v), String(v)));
      } else if (type === 'boolean') {
        control = document.createElement('input');
        control.type = 'checkbox';
      } else if (type === 'number' || type === 'integer') {
        control = document.createElement('input');
        control.type = 'number';
        if (type === 'integer') control.step = '1';
        if (typeof field.minimum === 'number') control.min = String(field.minimum);
        if (typeof field.maximum === 'number') control.max = String(field.maximum);
      } else if (type === 'string' && field.maxLength > 200) {
        control = document.createElement('textarea');
        control.rows = 3;
      } else {
        control = document.createElement('input');
        control.type = 'text';
      }
      if (typeof field.maxLength === 'number') control.maxLength = field.maxLength;
      control.id = id;
      control.name = name;
      wrap.append(control);
      const hints = [];
      if (field.description) hints.push(field.description);
      if (typeof field.minLength === 'number') hints.push('tối thiểu ' + field.minLength + ' ký tự');
      if (typeof field.maxLength === 'number') hints.push('tối đa ' + field.maxLength + ' ký tự');
      if (hints.length) {
        const hint = document.createElement('span');
        hint.className = 'hint';
        hint.textContent = hints.join(' · ');
        wrap.append(hint);
      }
      form.append(wrap);
    }
  }

  /** Check what is typed; returns the schema when it can be deployed. */
  function check() {
    const { schema, problems } = localProblems($('schema').value);
    $('schema').classList.toggle('invalid', problems.length > 0);
    showProblems(problems);
    if (schema) renderPreview(schema);
    $('deploy').disabled = problems.length > 0;
    document.body.dataset.valid = String(problems.length === 0);
    return problems.length ? null : schema;
  }

  async function loadKeys() {
    const all = await api('/v1/definitions');
    const box = $('definition');
    box.textContent = '';
    for (const key of [...new Set(all.filter((d) => d.kind === 'bpmn').map((d) => d.key))]) box.append(new window.Option(key, key));
    box.value = processKey;
    box.onchange = () => {
      window.location.search = '?process=' + encodeURIComponent(box.value);
    };
    return all.filter((d) => d.key === processKey);
  }

  async function loadVersions(select) {
    const versions = (await api('/v1/definitions')).filter((d) => d.key === processKey);
    const box = $('version');
    box.textContent = '';
    for (const d of versions) box.append(new window.Option('v' + d.version + (d.active ? ' (đang áp dụng)' : '') + (d.comment ? ' — ' + d.comment : ''), String(d.version)));
    const active = versions.find((d) => d.active);
    box.value = String(select || (active ? active.version : versions[0] && versions[0].version));
    $('status').textContent = active ? 'phiên bản đang áp dụng: v' + active.version : '';
  }

  async function openVersion(wanted) {
    const version = $('version').value;
    const answer = await api('/v1/definitions/' + encodeURIComponent(processKey) + '/versions/' + version + '/forms');
    forms = {};
    for (const f of answer.forms) forms[f.formKey] = f.schema;
    const box = $('form-key');
    box.textContent = '';
    for (const key of Object.keys(forms)) box.append(new window.Option(key + (forms[key].title ? ' — ' + forms[key].title : ''), key));
    if (!answer.forms.length) {
      say('Phiên bản v' + version + ' không có biểu mẫu nào.');
      return;
    }
    formKey = wanted && forms[wanted] ? wanted : box.value;
    box.value = formKey;
    $('schema').value = JSON.stringify(forms[formKey], null, 2);
    check();
    say('Đang xem biểu mẫu "' + formKey + '" của phiên bản v' + version + (answer.recorded ? '.' : ' (phiên bản cũ, dùng biểu mẫu cài đặt sẵn).'));
  }

  function refusedForImpact(err) {
    const risks = err.body && err.body.problems && err.body.problems.filter((p) => p.rule && p.rule.startsWith('impact-'));
    if (!risks || !risks.length) return false;
    showProblems(err.body.problems);
    $('impact-confirm').hidden = false;
    say('Chưa áp dụng: phiên bản này ảnh hưởng tới hồ sơ đang mở (xem danh sách). Đánh dấu xác nhận, ghi lý do rồi bấm lại.');
    return true;
  }

  async function serverCheck() {
    const schema = check();
    if (!schema) return;
    const xml = await api('/v1/definitions/' + encodeURIComponent(processKey) + '/versions/' + $('version').value + '.xml');
    const report = await api('/v1/definitions/validate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ xml, forms: Object.assign({}, forms, { [formKey]: schema }) }) });
    // The diagram's own style notes (bpmnlint) are the modeler's business; errors of any rule and the form rules are shown.
    showProblems(report.problems.filter((p) => p.severity === 'error' || (p.rule && p.rule.startsWith('form'))));
    say(report.valid ? 'Không có lỗi: có thể triển khai.' : 'Máy chủ từ chối: xem danh sách lỗi.');
  }

  /** The opened version's diagram again, with its forms and the edited one: a new version. */
  async function deploy() {
    const schema = check();
    if (!schema) return;
    const xml = await api('/v1/definitions/' + encodeURIComponent(processKey) + '/versions/' + $('version').value + '.xml');
    const body = { xml, forms: Object.assign({}, forms, { [formKey]: schema }), comment: $('comment').value.trim() || 'Sửa biểu mẫu ' + formKey };
    if ($('confirm-impact').checked) Object.assign(body, { confirm: true, reason: $('impact-reason').value.trim() || undefined });
    let result;
    try {
      result = await api('/v1/definitions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (err) {
      if (refusedForImpact(err)) return;
      if (err.body && err.body.problems) showProblems(err.body.problems);
      throw err;
    }
    await loadVersions(result.version);
    await openVersion(formKey);
    say(result.created ? 'Đã triển khai phiên bản v' + result.version + (result.active ? ' và áp dụng cho hồ sơ mới; hồ sơ đang chạy giữ biểu mẫu của phiên bản cũ.' : ' (chưa áp dụng).') : 'Biểu mẫu không đổi: giống hệt phiên bản v' + result.version + '.');
    document.body.dataset.deployed = String(result.version);
  }

  const guarded = (fn) => () => {
    showError('');
    fn().catch((err) => showError(err.message));
  };

  async function start() {
    started = true;
    if (!hasKey()) return askForKey(start);
    try {
      $('process').textContent = processKey;
      const me = await api('/v1/me');
      canEdit = me.roles.includes('analyst');
      for (const el of document.querySelectorAll('.edit-only')) el.hidden = !canEdit;
      $('schema').readOnly = !canEdit;
      await loadKeys();
      await loadVersions(params.get('version'));
      await openVersion(params.get('form'));
      $('version').onchange = guarded(() => openVersion(formKey));
      $('form-key').onchange = guarded(() => openVersion($('form-key').value));
      $('schema').addEventListener('input', check);
      $('check').onclick = guarded(serverCheck);
      $('deploy').onclick = guarded(deploy);
      document.body.dataset.ready = 'true';
    } catch (err) {
      showError(err.message);
    }
  }

  start();
})();
