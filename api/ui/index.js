/* global window, document, fetch */
// The front page: a citizen's status lookup (public API, code and phone), and
// the way to a case page for staff (their key stays in this tab).
(function () {
  'use strict';
  const STATUS_DATE = { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' };
  const date = (iso) => (iso ? new Date(iso).toLocaleDateString('vi-VN', STATUS_DATE) : '');
  const result = document.getElementById('public-result');

  function show(lines, isError) {
    result.replaceChildren(...lines.map((text) => Object.assign(document.createElement('p'), { textContent: text })));
    result.classList.toggle('error', Boolean(isError));
    result.hidden = false;
  }

  document.getElementById('public-lookup').addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = document.getElementById('public-code').value.trim();
    // The lookup asks for the last 4 digits; a whole number typed is cut to them.
    const phone = document.getElementById('public-phone').value.replace(/\D/g, '').slice(-4);
    const res = await fetch('/v1/public/cases/' + encodeURIComponent(code) + '?phone=' + encodeURIComponent(phone));
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      show([res.status === 404 ? 'Không tìm thấy phản ánh với mã và số điện thoại này.' : res.status === 429 ? 'Tra cứu quá nhiều lần; xin thử lại sau ít phút.' : body.detail || 'Không tra cứu được.'], true);
      return;
    }
    show([
      'Phản ánh ' + body.code + ': ' + body.statusLabel + '.',
      'Tiếp nhận ngày ' + date(body.receivedAt) + (body.agency ? '; cơ quan xử lý: ' + body.agency.name : '') + (body.due ? '; hạn trả lời: ' + date(body.due) : '') + '.',
      ...(body.answer ? ['Nội dung trả lời: ' + body.answer] : []),
    ]);
  });

  document.getElementById('staff-lookup').addEventListener('submit', (event) => {
    event.preventDefault();
    window.location.href = '/ui/cases/' + encodeURIComponent(document.getElementById('staff-code').value.trim());
  });
})();
