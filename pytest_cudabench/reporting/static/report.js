(function () {
  'use strict';
  var text = document.getElementById('f-text'), outcome = document.getElementById('f-outcome');
  var domain = document.getElementById('f-domain'), level = document.getElementById('f-level');
  var count = document.getElementById('f-count'), expand = document.getElementById('f-expand');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#items tbody.item'));
  var fields = {q: text, outcome: outcome, domain: domain, level: level};
  function apply(updateHash) {
    var words = text.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    rows.forEach(function (row) {
      var d = row.dataset, ok = (!outcome.value || d.outcome === outcome.value) &&
        (!domain.value || d.domain === domain.value) && (!level.value || d.level === level.value) &&
        words.every(function (w) { return d.search.indexOf(w) >= 0; });
      row.hidden = !ok;
      if (ok) { shown++; }
    });
    count.textContent = shown + ' of ' + rows.length + ' items';
    document.body.setAttribute('data-shown', String(shown));
    if (updateHash) {
      var params = [];
      Object.keys(fields).forEach(function (k) {
        if (fields[k].value) { params.push(k + '=' + encodeURIComponent(fields[k].value)); }
      });
      try { history.replaceState(null, '', params.length ? '#' + params.join('&') : location.pathname); } catch (e) {}
    }
  }
  location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
    var i = pair.indexOf('='), key = pair.slice(0, i), el = fields[key];
    if (i > 0 && el) {
      var value = '';
      try { value = decodeURIComponent(pair.slice(i + 1)); } catch (e) {}
      var known = Array.prototype.some.call(el.options || [], function (o) { return o.value === value; });
      if (el.tagName === 'SELECT' && !known) { return; }
      el.value = value;
    }
  });
  text.addEventListener('input', function () { apply(true); });
  [outcome, domain, level].forEach(function (el) { el.addEventListener('change', function () { apply(true); }); });
  expand.addEventListener('click', function () {
    var open = expand.textContent === 'expand all';
    rows.forEach(function (row) {
      if (!row.hidden) {
        Array.prototype.forEach.call(row.querySelectorAll('details'), function (d) { d.open = open; });
      }
    });
    expand.textContent = open ? 'collapse all' : 'expand all';
  });
  apply(false);
  document.body.setAttribute('data-ready', '1');
})();
