/* TrackRev pixel. Hand-written, no dependencies, never throws into the host page.
 * <script async src="{BASE}/p.js" data-workspace="ws_…" data-cookie-domain=".yoursite.com"></script>
 * Optional: data-api="{BASE}" (default: this script's origin), data-consent="required", data-debug
 * (logs to the console whether each hit was counted, and if not why: the X-TrackRev-Dropped answer).
 * Proxy mode: data-api on this site (https://yoursite.com/_tr, forwarded to {BASE}): the proxied answer
 * sets trackrev_vid over HTTP, which Safari keeps; the script then never writes it (README, proxy mode).
 * Wire format: attribution/pixel/wire.py. */
(function (w, d) {
  try {
    var prev = w.trackrev;
    if (prev && prev._loaded) return;
    var queue = (prev && prev.q) || [];
    var script = d.currentScript || d.querySelector('script[data-workspace]');
    if (!script) return;
    var attr = function (name) { return script.getAttribute('data-' + name) || ''; };
    var ws = attr('workspace');
    var domain = attr('cookie-domain');
    var base = attr('api');
    if (!base) { var a = d.createElement('a'); a.href = script.src; base = a.protocol + '//' + a.host; }
    var endpoint = base.replace(/\/+$/, '') + '/collect';
    // Proxy mode: the endpoint is this page's origin, or a host of the same site under the cookie domain.
    var to = d.createElement('a'); to.href = endpoint;
    var site = '.' + domain.replace(/^\./, '');
    var under = function (host) { return domain && ('.' + host).slice(-site.length) === site; };
    var proxied = to.host === location.host || (under(to.hostname) && under(location.hostname));
    var cookieDomain = domain;
    var VID = 'trackrev_vid', SES = 'trackrev_ses', LIFETIME = 400 * 86400, IDLE = 1800;
    var consented = attr('consent') !== 'required';
    var debug = script.hasAttribute('data-debug');
    var lastHit = 0, lastUrl = '';

    var readCookie = function (name) {
      var m = d.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
      return m ? m[1] : '';
    };
    var writeCookie = function (name, value, maxAge, dom) {
      d.cookie = name + '=' + value + '; Path=/; Max-Age=' + maxAge + '; SameSite=Lax' +
        (dom ? '; Domain=' + dom : '') + (location.protocol === 'https:' ? '; Secure' : '');
    };
    var setCookie = function (name, value, maxAge) {
      writeCookie(name, value, maxAge, domain);
      // A cookie domain this page is not under is refused by the browser: fall back to the host.
      if (domain && readCookie(name) !== value) { domain = ''; writeCookie(name, value, maxAge); }
    };
    var newId = function () {
      var bytes = new Uint8Array(16), out = '';
      w.crypto.getRandomValues(bytes);
      for (var i = 0; i < 16; i++) out += (bytes[i] + 256).toString(16).slice(1);
      return out;
    };

    var vid = readCookie(VID);
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(vid)) vid = newId();
    var persist = function () { setCookie(VID, vid, LIFETIME); };  // refreshed to the longest lifetime on each load
    // A proxied answer that set no cookie (wrong proxy secret, http page): keep the id as without a proxy.
    var kept = function () { if (consented && readCookie(VID) !== vid) persist(); };
    if (consented && !proxied) persist();

    var sessionStart = function () {
      var now = Date.now(), start = now - lastHit > IDLE * 1000;
      if (consented) { start = !readCookie(SES); setCookie(SES, '1', IDLE); }
      lastHit = now;
      return start;
    };
    var send = function (hit) {
      hit.w = ws; hit.v = vid;
      if (navigator.webdriver) hit.a = true;
      if (proxied) { if (consented) hit.p = 1; if (cookieDomain) hit.c = cookieDomain; }
      var body = JSON.stringify(hit);
      // A string body is sent as text/plain: a CORS-simple request, no preflight.
      if (proxied) {
        // With credentials, or the browser ignores the answer's Set-Cookie; by fetch, to see when it is in.
        var sent = fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'include', mode: debug ? 'cors' : 'no-cors' });
        sent.then(kept, kept);
        return debug && report(hit, sent);
      }
      if (debug) return report(hit, fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'omit' }));
      try { if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) return; } catch (e) { /* fall back */ }
      try { fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'omit', mode: 'no-cors' }); } catch (e) { /* give up */ }
    };
    // data-debug: the answer's X-TrackRev-Dropped reason (attribution/pixel/drops.py), said plainly.
    var report = function (hit, answer) {
      var what = 'TrackRev: ' + (hit.k === 'id' ? 'identify' : 'page view ' + hit.u);
      answer.then(function (r) {
        var why = r.headers.get('X-TrackRev-Dropped');
        console[why || !r.ok ? 'warn' : 'info'](what + (why ? ' not counted: ' + ({
          automated: 'automated/headless browser or bot: test in a normal browser window',
          domain: location.hostname + ' is not in Allowed domains (TrackRev settings)',
          quota: 'Free monthly quota reached: upgrade or wait for next month',
          'rate-limit': 'too many hits from this address this minute',
          'unknown-workspace': 'no workspace ' + ws
        }[why] || why) : r.ok ? ' counted' : ' refused: HTTP ' + r.status));
      }, function () { console.warn(what + ' not sent (ad blocker? offline?)'); });
    };
    var pageview = function (referrer) {
      var url = location.href;
      if (url === lastUrl) return;
      // The external referrer only travels with the landing; SPA navigations carry the previous URL.
      var ref = lastUrl || referrer || '';
      lastUrl = url;
      send({ k: 'pv', u: url, r: ref, s: sessionStart() });
    };
    var identify = function (email) {
      if (typeof email === 'string' && email.indexOf('@') > 0) send({ k: 'id', u: location.href, e: email.trim() });
    };
    var consent = function (granted) {
      consented = granted !== false;
      if (consented) { if (proxied) send({ k: 'cs', u: location.href }); else persist(); setCookie(SES, '1', IDLE); } else { setCookie(VID, '', 0); setCookie(SES, '', 0); }
    };
    var guard = function (fn) {
      return function () { try { return fn.apply(null, arguments); } catch (e) { /* never break the page */ } };
    };

    var api = w.trackrev = {
      _loaded: true,
      visitorId: function () { return vid; },
      identify: guard(identify),
      consent: guard(consent),
      page: guard(function () { pageview(''); })
    };
    var run = function (call) {
      try { if (call && typeof api[call[0]] === 'function') api[call[0]].apply(api, [].slice.call(call, 1)); } catch (e) { /* skip */ }
    };
    api.q = { push: run };

    var hook = function (name) {
      var original = history[name];
      if (typeof original !== 'function') return;
      history[name] = function () {
        var result = original.apply(this, arguments);
        api.page();
        return result;
      };
    };
    hook('pushState');
    hook('replaceState');
    w.addEventListener('popstate', api.page);

    for (var i = 0; i < queue.length; i++) run(queue[i]);
    pageview(d.referrer);
  } catch (e) { /* never break the page */ }
})(window, document);
