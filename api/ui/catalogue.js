/* global window, document, URLSearchParams */
// The analysts' catalogue page: agencies, administrative units, fields and procedures
// (GET/PUT /v1/catalogue/{kind}/{code}; "Thêm mới" creates with a code the analyst types) and a year's
// holidays and make-up working days (PUT /v1/catalogue/calendar/{year}), read and written
// through the API with the tab's key. The server checks everything; this page only shows
// its problems in Vietnamese, next to the fields they name.
(function () {
  'use strict';
  const ui = window.PaknUi;
  const $ = (id) => document.getElementById(id);

  const FIELD_LABELS = {
    name: 'Tên', shortName: 'Tên viết tắt', nameEn: 'Tên tiếng Anh', validFrom: 'Hiệu lực từ ngày', validTo: 'Hết hiệu lực sau ngày',
    successor: 'Kế thừa', note: 'Ghi chú', code: 'Mã', kind: 'Loại', level: 'Cấp', unit: 'Đơn vị hành chính',
    parent: 'Trực thuộc', formerUnits: 'Đơn vị cũ', defaultAgency: 'Cơ quan xử lý mặc định', field: 'Lĩnh vực', agency: 'Cơ quan',
    implementedAt: 'Cấp tiếp nhận, giải quyết',
    holidays: 'Ngày nghỉ', workingDays: 'Ngày làm bù', source: 'Căn cứ', date: 'ngày', provisional: 'Dự kiến',
  };

  const MESSAGES = [
    [/^is required$/, () => 'bắt buộc phải nhập'],
    [/^(\S+) is not in (\d{4})$/, (m) => m[1] + ' không thuộc năm ' + m[2]],
    [/^(\S+) is listed twice$/, (m) => m[1] + ' bị nhập hai lần'],
    [/^(\S+) is not a weekend day/, (m) => m[1] + ' không phải thứ Bảy hay Chủ nhật nên không cần làm bù'],
    [/^must be a real YYYY-MM-DD date/, () => 'không phải một ngày có thật'],
    [/^(\S+) is before validFrom (\S+)$/, (m) => m[1] + ' trước ngày bắt đầu hiệu lực ' + m[2]],
    [/^"(.+)" is not in the (\w+) catalogue$/, (m) => '"' + m[1] + '" không có trong danh mục'],
    [/^cannot name the entry itself$/, () => 'không được là chính nó'],
    [/^is not a known field$/, () => 'không phải trường được phép'],
    [/^must NOT have fewer than 1 characters$/, () => 'bắt buộc phải nhập'],
    [/^must NOT have more than (\d+) characters$/, (m) => 'dài quá ' + m[1] + ' ký tự'],
    [/^must match pattern "\^\[A-Z0-9\]/, () => 'chỉ dùng chữ in hoa không dấu (A–Z), chữ số và dấu gạch ngang'],
    [/^must match pattern "\^\[\\x20/, () => 'chỉ dùng chữ không dấu (ASCII)'],
    [/^must match pattern/, () => 'sai định dạng'],
    [/^must be one of (.+)$/, (m) => 'phải là một trong ' + m[1]],
    [/^must be equal to constant$/, () => 'không hợp với loại đã chọn'],
    [/^must match "(then|else)" schema$/, () => 'không hợp với loại đã chọn'],
    [/^must NOT be valid$/, () => 'không dùng được với loại đã chọn'],
    [/^must NOT have fewer than 1 items$/, () => 'chọn ít nhất một'],
    [/^must match exactly one schema in oneOf$/, () => 'giá trị không hợp lệ'],
    [/^must be (string|null|integer|number|array|object)/, () => 'sai kiểu dữ liệu'],
  ];

  function vietnamese(message) {
    for (const [re, say] of MESSAGES) {
      const m = re.exec(message);
      if (m) return say(m);
    }
    return message;
  }

  /** "/holidays/3/date" → "Ngày nghỉ, dòng 4, ngày". */
  function fieldName(path) {
    const parts = String(path || '').split('/').filter(Boolean);
    return parts.map((p) => (/^\d+$/.test(p) ? 'dòng ' + (Number(p) + 1) : FIELD_LABELS[p] || p)).join(', ') || 'Dữ liệu';
  }

  function showProblems(list, err) {
    list.replaceChildren();
    const status = err.body && err.body.status;
    const problems = (err.body && err.body.errors) || [];
    if (status === 403) problems.push({ path: '', message: 'Khóa API này không có quyền sửa (cần vai trò chuyên viên phân tích hoặc quản trị).' });
    if (!problems.length) problems.push({ path: '', message: err.message });
    const form = list.closest('form');
    for (const old of form.querySelectorAll('.field-problem')) old.remove();
    for (const p of problems) {
      const li = document.createElement('li');
      li.textContent = (p.path ? fieldName(p.path) + ': ' : '') + vietnamese(p.message);
      list.append(li);
      // Also next to the field itself, when the form shows it (entry forms mark each control with data-field).
      const top = String(p.path || '').split('/').filter(Boolean)[0];
      const at = top && (top === 'code' ? $('entry-code-label') : form.querySelector('[data-field="' + top + '"]'));
      if (at && form.contains(at)) at.append(Object.assign(document.createElement('span'), { className: 'field-problem', textContent: vietnamese(p.message) }));
    }
  }

  function saved(text) {
    const el = $('saved');
    el.textContent = text;
    el.hidden = false;
  }

  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    return td;
  }

  async function loadWarnings() {
    const cal = await ui.api('/v1/catalogue/calendar', start);
    const list = $('warnings');
    list.replaceChildren(...cal.warnings.map((w) => Object.assign(document.createElement('li'), { textContent: w })));
    list.hidden = cal.warnings.length === 0;
    return cal;
  }

  // ---------------------------------------------------------------- entries

  // Each kind's fields as in processes/catalogue/catalogue.schema.json ($defs agency, unit,
  // field, procedure). Enums are selects, codes of other entries are selects of that kind's
  // entries (retired ones too, so an old entry still shows what it names); the server checks
  // the rest (if/then rules such as "local government needs a unit") and names the field.
  const KIND_NAMES = { agencies: 'Cơ quan', units: 'Đơn vị hành chính', fields: 'Lĩnh vực', procedures: 'Thủ tục hành chính' };
  const AGENCY_KINDS = [
    ['department', 'Sở, ban, ngành'], ['provincial-agency', 'Cơ quan cấp tỉnh khác'], ['utility', 'Doanh nghiệp dịch vụ công ích'],
    ['local-government', 'Chính quyền địa phương'], ['coordinator', 'Đầu mối điều phối'], ['home-affairs', 'Sở Nội vụ'], ['hotline', 'Tổng đài 1022'],
  ];
  const UNIT_KINDS = [['city', 'Thành phố'], ['town', 'Thị xã'], ['district', 'Huyện'], ['commune', 'Xã'], ['ward', 'Phường']];
  const LEVELS = [['1', '1 — xử lý lĩnh vực toàn tỉnh'], ['2', '2 — đầu mối địa phương'], ['', 'Không xử lý (điều phối, tổng đài)']];
  const LEVELS_OF_GOVERNMENT = [['province', 'Tỉnh'], ['district', 'Huyện'], ['commune', 'Xã']];

  const NAME = { name: 'name', label: 'Tên', type: 'text', required: true };
  const NAME_EN = { name: 'nameEn', label: 'Tên tiếng Anh (không dấu)', type: 'text', required: true };
  const VALIDITY = [
    { name: 'validFrom', label: 'Hiệu lực từ ngày', type: 'date', required: true },
    { name: 'validTo', label: 'Hết hiệu lực sau ngày (để trống khi còn hiệu lực)', type: 'date', nullable: true },
    { name: 'note', label: 'Ghi chú', type: 'textarea' },
  ];
  const KINDS = {
    agencies: {
      columns: [['level', 'Cấp', (e) => (e.level == null ? '—' : e.level)], ['successor', 'Kế thừa']],
      fields: [
        NAME, { name: 'shortName', label: 'Tên viết tắt', type: 'text' }, NAME_EN,
        { name: 'kind', label: 'Loại cơ quan', type: 'select', options: AGENCY_KINDS, required: true },
        { name: 'level', label: 'Cấp xử lý', type: 'level' },
        { name: 'unit', label: 'Đơn vị hành chính phụ trách (chỉ với chính quyền địa phương)', type: 'ref', ref: 'units' },
        { name: 'successor', label: 'Cơ quan kế thừa', type: 'ref', ref: 'agencies' },
        ...VALIDITY,
      ],
    },
    units: {
      columns: [['kind', 'Loại', (e) => labelOf(UNIT_KINDS, e.kind)], ['parent', 'Trực thuộc', (e) => e.parent || 'tỉnh']],
      fields: [
        NAME, NAME_EN,
        { name: 'kind', label: 'Loại đơn vị', type: 'select', options: UNIT_KINDS, required: true },
        { name: 'parent', label: 'Trực thuộc (để trống khi trực thuộc tỉnh)', type: 'ref', ref: 'units', nullable: true },
        { name: 'successor', label: 'Đơn vị kế thừa', type: 'ref', ref: 'units' },
        { name: 'formerUnits', label: 'Đơn vị cũ đã nhập vào (mã, cách nhau bằng dấu phẩy; bắt buộc với xã, phường, có thể để trống)', type: 'codes' },
        ...VALIDITY,
      ],
    },
    fields: {
      columns: [['defaultAgency', 'Cơ quan mặc định']],
      fields: [NAME, NAME_EN, { name: 'defaultAgency', label: 'Cơ quan xử lý mặc định', type: 'ref', ref: 'agencies', required: true }, ...VALIDITY],
    },
    procedures: {
      columns: [['field', 'Lĩnh vực'], ['agency', 'Cơ quan']],
      fields: [
        NAME, { name: 'nameEn', label: 'Tên tiếng Anh (không dấu)', type: 'text' },
        { name: 'field', label: 'Lĩnh vực', type: 'ref', ref: 'fields', required: true },
        { name: 'agency', label: 'Cơ quan chịu trách nhiệm', type: 'ref', ref: 'agencies', required: true },
        { name: 'implementedAt', label: 'Cấp tiếp nhận, giải quyết', type: 'checks', options: LEVELS_OF_GOVERNMENT },
        { name: 'successor', label: 'Thủ tục thay thế', type: 'ref', ref: 'procedures' },
        ...VALIDITY,
      ],
    },
  };

  const lists = { agencies: [], units: [], fields: [], procedures: [] };
  let kind = 'agencies';

  function labelOf(options, value) {
    const found = options.find(([v]) => v === value);
    return found ? found[1] : value;
  }

  async function loadKind(k) {
    lists[k] = await ui.api('/v1/catalogue/' + k, start);
  }

  function renderEntries() {
    const spec = KINDS[kind];
    const head = $('entries').tHead.rows[0];
    head.replaceChildren(...['Mã', 'Tên', ...spec.columns.map((c) => c[1]), 'Hiệu lực từ', 'Đến', ''].map((t) => Object.assign(document.createElement('th'), { textContent: t })));
    const q = $('filter').value.trim().toLowerCase();
    const today = new Date().toISOString().slice(0, 10);
    const rows = lists[kind]
      .filter((e) => !q || e.code.toLowerCase().includes(q) || e.name.toLowerCase().includes(q))
      .map((e) => {
        const tr = document.createElement('tr');
        tr.dataset.code = e.code;
        if (e.validTo && e.validTo < today) tr.className = 'retired';
        tr.append(cell(e.code), cell(e.name), ...spec.columns.map(([name, , show]) => cell(show ? show(e) : e[name])), cell(e.validFrom), cell(e.validTo || 'đang hiệu lực'));
        const td = document.createElement('td');
        const edit = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Sửa' });
        edit.addEventListener('click', () => editEntry(e));
        td.append(edit);
        tr.append(td);
        return tr;
      });
    $('entries').tBodies[0].replaceChildren(...rows);
  }

  function option(value, text) {
    return Object.assign(document.createElement('option'), { value, textContent: text });
  }

  /** One labelled control for a field of the kind, filled from the entry. */
  function control(f, entry) {
    const value = entry[f.name];
    const label = document.createElement(f.type === 'checks' ? 'fieldset' : 'label');
    label.dataset.field = f.name;
    if (f.type === 'checks') {
      label.append(Object.assign(document.createElement('legend'), { textContent: f.label }));
      for (const [v, text] of f.options) {
        const l = document.createElement('label');
        l.className = 'check';
        const box = Object.assign(document.createElement('input'), { type: 'checkbox', name: f.name, value: v, checked: Array.isArray(value) && value.includes(v) });
        l.append(box, ' ' + text);
        label.append(l);
      }
      return label;
    }
    label.append(f.label + ' ');
    let input;
    if (f.type === 'select' || f.type === 'level' || f.type === 'ref') {
      input = document.createElement('select');
      if (f.type === 'select') {
        input.append(option('', '— chọn —'), ...f.options.map(([v, text]) => option(v, text)));
        input.value = value || '';
      } else if (f.type === 'level') {
        input.append(...LEVELS.map(([v, text]) => option(v, text)));
        input.value = value == null ? '' : String(value);
      } else {
        input.append(option('', f.required ? '— chọn —' : '— không —'));
        const today = new Date().toISOString().slice(0, 10);
        for (const e of lists[f.ref]) input.append(option(e.code, e.code + ' — ' + e.name + (e.validTo && e.validTo < today ? ' (hết hiệu lực)' : '')));
        // A code the list lacks is kept, so saving never drops it silently; the server names it.
        if (value && !lists[f.ref].some((e) => e.code === value)) input.append(option(value, value));
        input.value = value || '';
      }
    } else if (f.type === 'textarea') {
      input = Object.assign(document.createElement('textarea'), { rows: 2, value: value || '' });
    } else {
      input = Object.assign(document.createElement('input'), { type: f.type === 'date' ? 'date' : 'text', value: f.type === 'codes' ? (value || []).join(', ') : value == null ? '' : String(value) });
      if (f.type === 'text') input.maxLength = 300;
    }
    input.name = f.name;
    if (f.required) input.required = true;
    label.append(input);
    return label;
  }

  function openForm(entry, isNew) {
    const form = $('entry-form');
    form.dataset.mode = isNew ? 'new' : 'edit';
    form.dataset.code = isNew ? '' : entry.code;
    $('entry-title').textContent = (isNew ? 'Thêm mới — ' : 'Sửa — ') + KIND_NAMES[kind] + (isNew ? '' : ' ' + entry.code);
    $('entry-code-label').hidden = !isNew;
    form.elements.code.required = isNew;
    form.elements.code.value = '';
    $('entry-fields').replaceChildren(...KINDS[kind].fields.map((f) => control(f, entry)));
    $('entry-problems').replaceChildren();
    form.hidden = false;
    form.editing = entry;
    (isNew ? form.elements.code : form.elements.name).focus();
  }

  function editEntry(e) {
    openForm(e, false);
  }

  /** The entry to PUT: what the server holds, with the form's fields over it (fields the page does not show are kept). */
  function entryFromForm(form) {
    const entry = Object.assign({}, form.editing);
    for (const f of KINDS[kind].fields) {
      if (f.type === 'checks') {
        const picked = [...form.querySelectorAll('input[name="' + f.name + '"]:checked')].map((b) => b.value);
        if (picked.length) entry[f.name] = picked;
        else delete entry[f.name];
        continue;
      }
      const raw = form.elements[f.name].value.trim();
      if (f.type === 'level') entry.level = raw === '' ? null : Number(raw);
      else if (f.type === 'codes') {
        const codes = raw.split(/[\s,;]+/).filter(Boolean);
        // Communes and wards must list their former units, even none.
        if (codes.length || ['commune', 'ward'].includes(entry.kind) || Array.isArray(form.editing.formerUnits)) entry[f.name] = codes;
        else delete entry[f.name];
      } else if (raw) entry[f.name] = raw;
      else if (f.nullable) entry[f.name] = null;
      else delete entry[f.name];
    }
    return entry;
  }

  async function saveEntry(e) {
    e.preventDefault();
    const form = $('entry-form');
    const isNew = form.dataset.mode === 'new';
    const code = isNew ? form.elements.code.value.trim() : form.dataset.code;
    if (isNew && lists[kind].some((x) => x.code === code)) {
      // PUT would overwrite it: adding must never change an existing entry by mistake.
      showProblems($('entry-problems'), { body: { errors: [{ path: '/code', message: 'đã có trong danh mục: tìm mã đó và bấm Sửa' }] } });
      return;
    }
    const entry = entryFromForm(form);
    delete entry.code;
    try {
      const stored = await ui.api('/v1/catalogue/' + kind + '/' + encodeURIComponent(code), start, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(entry),
      });
      form.hidden = true;
      await loadKind(kind);
      renderEntries();
      saved((isNew ? 'Đã thêm ' : 'Đã lưu ') + KIND_NAMES[kind].toLowerCase() + ' ' + stored.code + ' — ' + stored.name + '. Thay đổi có hiệu lực ngay trên mọi máy chủ.');
    } catch (err) {
      showProblems($('entry-problems'), err);
    }
  }

  function pickKind(k) {
    kind = k;
    $('kind').value = k;
    $('entry-form').hidden = true;
    renderEntries();
  }

  // ---------------------------------------------------------------- calendar

  function dayRow(tbody, day) {
    const tr = document.createElement('tr');
    const date = Object.assign(document.createElement('input'), { type: 'date', required: true, value: (day && day.date) || '' });
    date.className = 'day-date';
    const name = Object.assign(document.createElement('input'), { required: true, value: (day && day.name) || '', size: 50, maxLength: 300 });
    name.className = 'day-name';
    const remove = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Xóa' });
    remove.addEventListener('click', () => tr.remove());
    const tds = [date, name, remove].map((el) => {
      const td = document.createElement('td');
      td.append(el);
      return td;
    });
    tr.append(...tds);
    tbody.append(tr);
    return tr;
  }

  function daysOf(tbody) {
    return [...tbody.rows].map((tr) => ({ date: tr.querySelector('.day-date').value, name: tr.querySelector('.day-name').value.trim() }));
  }

  async function loadYear(year) {
    const cal = await ui.api('/v1/catalogue/calendar?year=' + year, start);
    $('year').value = String(cal.year);
    const state = $('calendar-state');
    state.className = cal.covered ? '' : 'fallback';
    state.textContent = cal.covered
      ? 'Năm ' + cal.year + ': ' + cal.holidays.length + ' ngày nghỉ, ' + cal.workingDays.length + ' ngày làm bù' + (cal.provisional ? ' (dự kiến)' : '') + (cal.updatedBy ? '. Cập nhật lần cuối bởi ' + cal.updatedBy + ' lúc ' + new Date(cal.updatedAt).toLocaleString('vi-VN') : '') + '.'
      : 'Năm ' + cal.year + ' chưa có lịch nghỉ: thời hạn đang tính theo thứ Hai – thứ Sáu và hồ sơ bị đánh dấu.';
    for (const [id, days] of [['holidays', cal.holidays], ['working-days', cal.workingDays]]) {
      const tbody = $(id).tBodies[0];
      tbody.replaceChildren();
      for (const d of days) dayRow(tbody, d);
    }
    $('source').value = cal.source || '';
    $('provisional').checked = cal.provisional;
    $('calendar-problems').replaceChildren();
  }

  async function saveYear(e) {
    e.preventDefault();
    const year = Number($('year').value);
    const body = { holidays: daysOf($('holidays').tBodies[0]), workingDays: daysOf($('working-days').tBodies[0]), provisional: $('provisional').checked };
    const source = $('source').value.trim();
    if (source) body.source = source;
    try {
      await ui.api('/v1/catalogue/calendar/' + year, start, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await loadWarnings();
      await loadYear(year);
      saved('Đã lưu lịch năm ' + year + '. Các thời hạn tính từ bây giờ dùng lịch mới; thời hạn đã giao giữ nguyên.');
    } catch (err) {
      showProblems($('calendar-problems'), err);
    }
  }

  async function start() {
    ui.showError('');
    try {
      const cal = await loadWarnings();
      // Every kind is loaded: the forms offer other kinds' codes (a field's default agency, a unit's parent…).
      for (const k of Object.keys(lists)) await loadKind(k);
      const asked = new URLSearchParams(window.location.search).get('kind');
      pickKind(KINDS[asked] ? asked : kind);
      const wanted = new URLSearchParams(window.location.search).get('year');
      await loadYear(wanted || (cal.missingYears.length ? cal.missingYears[cal.missingYears.length - 1] : cal.year));
    } catch (err) {
      ui.showError(err.message);
    }
    document.body.dataset.ready = 'true';
  }

  $('kind').addEventListener('change', () => pickKind($('kind').value));
  $('filter').addEventListener('input', renderEntries);
  $('entry-add').addEventListener('click', () => openForm({}, true));
  $('entry-form').addEventListener('submit', saveEntry);
  $('entry-cancel').addEventListener('click', () => {
    $('entry-form').hidden = true;
  });
  $('year-pick').addEventListener('submit', (e) => {
    e.preventDefault();
    loadYear($('year').value).catch((err) => ui.showError(err.message));
  });
  $('add-holiday').addEventListener('click', () => dayRow($('holidays').tBodies[0]).querySelector('input').focus());
  $('add-working-day').addEventListener('click', () => dayRow($('working-days').tBodies[0]).querySelector('input').focus());
  $('calendar-form').addEventListener('submit', saveYear);

  if (ui.hasKey()) start();
  else ui.askForKey(start);
})();
