/* global window, document, URLSearchParams, Chart */
// The Saturday-review dashboard: the weekly report of GET /v1/reports/weekly, drawn for a projector.
(function () {
  'use strict';
  const { showError, askForKey, hasKey } = window.PaknUi;
  const api = (path) => window.PaknUi.api(path, load);
  const DAYS = ['Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy', 'Chủ nhật'];
  const charts = {};

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    config.options = Object.assign({ responsive: true, animation: false, plugins: { legend: { display: false } } }, config.options || {});
    charts[id] = new Chart(document.getElementById(id), config);
  }

  function tile(label, value, bad) {
    const div = document.createElement('div');
    div.className = 'tile' + (bad && value > 0 ? ' bad' : '');
    const b = document.createElement('b');
    b.textContent = value;
    div.append(b, document.createTextNode(label));
    return div;
  }

  function cell(row, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    row.append(td);
  }

  function vnDate(iso) {
    return iso ? new Date(iso).toLocaleDateString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' }) : '';
  }

  async function load() {
    if (!hasKey()) return askForKey(load);
    const week = document.getElementById('week').value;
    showError('');
    try {
      const report = await api('/v1/reports/weekly?week=' + encodeURIComponent(week));
      const monday = new Date(report.from);
      const day = (d) => new Date(monday.getTime() + d * 86400000 + 7 * 3600000).toISOString().slice(0, 10);
      const stats = await api('/v1/reports/stats?groupBy=channel&period=day&from=' + day(0) + '&to=' + day(7));
      document.getElementById('csv').dataset.path = '/v1/reports/weekly?format=csv&week=' + encodeURIComponent(week);

      const t = report.totals;
      const tiles = document.getElementById('totals');
      tiles.textContent = '';
      tiles.append(
        tile('Tiếp nhận', t.received),
        tile('Đã trả lời', t.answered),
        tile('Trả lời trễ hạn', t.answeredLate, true),
        tile('Đang xử lý', t.stillOpen),
        tile('Quá hạn chưa trả lời', t.stillOpenOverdue, true),
        tile('Chuyển VP UBND tỉnh', t.escalated, true),
        tile('Chuyển quá giới hạn', t.transferredPastLimit, true),
        tile('Kết luận trách nhiệm', t.findings, true),
      );

      const perDay = DAYS.map((_, i) => stats.filter((r) => r.periodStart === day(i)).reduce((n, r) => n + r.received, 0));
      draw('byDay', { type: 'bar', data: { labels: DAYS, datasets: [{ data: perDay, backgroundColor: '#1565c0' }] }, options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });

      const agencies = report.agencies.filter((a) => a.answered + a.stillOpenOverdue > 0);
      draw('onTime', {
        type: 'bar',
        data: {
          labels: agencies.map((a) => a.agencyName),
          datasets: [{ data: agencies.map((a) => Math.round((100 * a.answeredOnTime) / (a.answered + a.stillOpenOverdue))), backgroundColor: agencies.map((a) => (a.answeredOnTime / (a.answered + a.stillOpenOverdue) < 0.8 ? '#c62828' : '#2e7d32')) }],
        },
        options: { indexAxis: 'y', scales: { x: { min: 0, max: 100, ticks: { callback: (v) => v + '%' } } } },
      });

      draw('topFields', { type: 'bar', data: { labels: report.topFields.map((f) => f.name), datasets: [{ data: report.topFields.map((f) => f.count), backgroundColor: '#ef6c00' }] }, options: { indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } });

      const attention = document.querySelector('#attention tbody');
      attention.textContent = '';
      for (const c of report.overdueAndEscalated) {
        const row = document.createElement('tr');
        cell(row, c.code);
        cell(row, c.title || '');
        cell(row, (c.holder || []).join(', '));
        cell(row, vnDate(c.due));
        cell(row, [c.overdue ? 'Quá hạn' : '', c.escalated ? 'Đã chuyển VP UBND tỉnh' : ''].filter(Boolean).join(' · '));
        attention.append(row);
      }
      const procedures = document.querySelector('#procedures tbody');
      procedures.textContent = '';
      for (const p of report.topProcedures) {
        const row = document.createElement('tr');
        cell(row, p.name);
        cell(row, String(p.count), 'num');
        cell(row, p.trend.map((x) => x.count).join(' · '));
        procedures.append(row);
      }
      document.body.dataset.ready = 'true';
    } catch (err) {
      showError(err.message);
    }
  }

  // Default: this week, in Vietnam time.
  const now = new Date(Date.now() + 7 * 3600000);
  const thursday = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 4 - (thursday.getUTCDay() || 7));
  const weekNo = Math.ceil(((thursday - Date.UTC(thursday.getUTCFullYear(), 0, 1)) / 86400000 + 1) / 7);
  const params = new URLSearchParams(window.location.search);
  document.getElementById('week').value = params.get('week') || thursday.getUTCFullYear() + '-W' + String(weekNo).padStart(2, '0');
  document.getElementById('print').onclick = function () {
    window.print();
  };
  document.getElementById('csv').onclick = function (e) {
    e.preventDefault();
    const path = e.currentTarget.dataset.path;
    if (!path) return;
    showError('');
    window.PaknUi.download(path, 'bao-cao-tuan.csv', load).catch((err) => showError(err.message));
  };
  document.getElementById('pick').onsubmit = function (e) {
    e.preventDefault();
    load();
  };
  load();
})();
