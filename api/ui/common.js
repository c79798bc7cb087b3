/* global window, document, fetch, sessionStorage, URLSearchParams, URL, setTimeout */
// Shared by the pages: the API key lives in this tab only (sessionStorage). A key
// given in the URL fragment (#key=…) is taken and removed from the address bar,
// so it never reaches a server log.
(function () {
  'use strict';
  const fragmentKey = new URLSearchParams(window.location.hash.slice(1)).get('key');
  if (fragmentKey) {
    sessionStorage.setItem('pakn-key', fragmentKey);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }

  function showError(message) {
    const el = document.getElementById('error');
    el.textContent = message || '';
    el.hidden = !message;
  }

  /** Show the key form; `then` runs once a key is entered. */
  function askForKey(then) {
    const form = document.getElementById('login');
    form.hidden = false;
    form.onsubmit = function (e) {
      e.preventDefault();
      sessionStorage.setItem('pakn-key', document.getElementById('key').value.trim());
      form.hidden = true;
      then();
    };
  }

  /** Call an API path with the tab's key; problem+json details become the error message. */
  /** A 401: the key is forgotten, asked for again (then `retry` runs), and the call fails. */
  function unauthorized(retry) {
    sessionStorage.removeItem('pakn-key');
    askForKey(retry);
    throw new Error('Khóa API không hợp lệ hoặc đã bị thu hồi.');
  }

  async function api(path, onUnauthorized, init) {
    const options = init || {};
    const headers = Object.assign({ authorization: 'Bearer ' + sessionStorage.getItem('pakn-key') }, options.headers || {});
    const res = await fetch(path, Object.assign({}, options, { headers }));
    if (res.status === 401) unauthorized(onUnauthorized);
    const type = res.headers.get('content-type') || '';
    const body = type.includes('json') ? await res.json() : await res.text();
    if (!res.ok) {
      const error = new Error((body && body.detail) || 'Lỗi ' + res.status);
      error.body = body;
      throw error;
    }
    return body;
  }

  /**
   * Download a file the API serves (a report's CSV) with the key: a plain link cannot send the key (it stays in the
   * page, never in the URL), so it answered 401. The bytes are kept as sent (the CSV's BOM, for Excel).
   */
  async function download(path, filename, onUnauthorized) {
    const res = await fetch(path, { headers: { authorization: 'Bearer ' + sessionStorage.getItem('pakn-key') } });
    if (res.status === 401) unauthorized(onUnauthorized);
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      throw new Error((body && body.detail) || 'Lỗi ' + res.status);
    }
    const named = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') || '');
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = named ? named[1] : filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  window.PaknUi = { api, download, askForKey, showError, hasKey: () => Boolean(sessionStorage.getItem('pakn-key')) };
})();
