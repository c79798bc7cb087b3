/* global window, document, URLSearchParams */
// The analysts' catalogue page: agencies (PUT /v1/catalogue/agencies/{code}) and a year's
// holidays and make-up working days (PUT /v1/catalogue/calendar/{year}), read and written
// through the API with the tab's key. The server checks everything; this page only shows
// its problems in Vietnamese, next to the fields they name.
(function () {
  'use strict';
  const ui = window.PaknUi;
  const $ = (id) => document.getElementById(id);
  let agencies = [];
  let editing = null;

  const FIELD_LABELS = {
    name: 'Tên', shortName: 'Tên viết tắt', nameEn: 'Tên tiếng Anh', validFrom: 'Hiệu lực từ ngày', validTo: 'Hết hiệu lực sau ngày',
    successor: 'Cơ quan kế thừa', note: 'Ghi chú', code: 'Mã', kind: 'Loại cơ quan', level: 'Cấp', unit: 'Đơn vị hành chính',
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
    for (const p of problems) {
      const li = document.createElement('li');
      li.textContent = (p.path ? fieldName(p.path) + ': ' : '') + vietnamese(p.message);
      list.append(li);
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

  // ---------------------------------------------------------------- agencies

  async function loadAgencies() {
    agencies = await ui.api('/v1/catalogue/agencies', start);
    renderAgencies();
  }

  function renderAgencies() {
    const q = $('filter').value.trim().toLowerCase();
    const today = new Date().toISOString().slice(0, 10);
    const rows = agencies
      .filter((a) => !q || a.code.toLowerCase().includes(q) || a.name.toLowerCase().includes(q))
      .map((a) => {
        const tr = document.createElement('tr');
        tr.dataset.code = a.code;
        if (a.validTo && a.validTo < today) tr.className = 'retired';
        tr.append(cell(a.code), cell(a.name), cell(a.level == null ? '—' : a.level), cell(a.validFrom), cell(a.validTo || 'đang hiệu lực'), cell(a.successor || ''));
        const td = document.createElement('td');
        const edit = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Sửa' });
        edit.addEventListener('click', () => editAgency(a));
        td.append(edit);
        tr.append(td);
        return tr;
      });
    $('agencies').tBodies[0].replaceChildren(...rows);
  }

  function editAgency(a) {
    editing = a;
    const form = $('agency-form');
    $('agency-code').textContent = a.code;
    for (const name of ['name', 'shortName', 'nameEn', 'validFrom', 'validTo', 'successor', 'note']) form.elements[name].value = a[name] == null ? '' : a[name];
    $('agency-problems').replaceChildren();
    form.hidden = false;
    form.elements.name.focus();
  }

  async function saveAgency(e) {
    e.preventDefault();
    const form = $('agency-form');
    const entry = Object.assign({}, editing);
    for (const name of ['name', 'shortName', 'nameEn', 'validFrom', 'successor', 'note']) {
      const v = form.elements[name].value.trim();
      if (v) entry[name] = v;
      else delete entry[name];
    }
    entry.validTo = form.elements.validTo.value || null;
    try {
      const stored = await ui.api('/v1/catalogue/agencies/' + encodeURIComponent(editing.code), start, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(entry),
      });
      form.hidden = true;
      await loadAgencies();
      saved('Đã lưu cơ quan ' + stored.code + ' — ' + stored.name + '. Thay đổi có hiệu lực ngay trên mọi máy chủ.');
    } catch (err) {
      showProblems($('agency-problems'), err);
    }
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
      await loadAgencies();
      const wanted = new URLSearchParams(window.location.search).get('year');
      await loadYear(wanted || (cal.missingYears.length ? cal.missingYears[cal.missingYears.length - 1] : cal.year));
    } catch (err) {
      ui.showError(err.message);
    }
    document.body.dataset.ready = 'true';
  }

  $('filter').addEventListener('input', renderAgencies);
  $('agency-form').addEventListener('submit', saveAgency);
  $('agency-cancel').addEventListener('click', () => {
    $('agency-form').hidden = true;
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
