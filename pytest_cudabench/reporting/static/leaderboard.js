(function () {
  'use strict';
  var table = document.getElementById('matrix');
  if (!table) { return; }
  var body = table.tBodies[0], head = table.tHead.rows[0];
  var rows = Array.prototype.slice.call(body.rows);
  var text = document.getElementById('m-text'), state = document.getElementById('m-status');
  var differ = document.getElementById('m-differ'), count = document.getElementById('m-count');
  function apply() {
    var words = text.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    rows.forEach(function (row) {
      var d = row.dataset, ok = words.every(function (w) { return d.search.indexOf(w) >= 0; }) &&
        (!state.value || (' ' + d.statuses + ' ').indexOf(' ' + state.value + ' ') >= 0) &&
        (!differ.checked || d.differ === '1');
      row.hidden = !ok;
      if (ok) { shown++; }
    });
    count.textContent = shown + ' of ' + rows.length + ' items';
    document.body.setAttribute('data-shown', String(shown));
  }
  Array.prototype.forEach.call(head.cells, function (th, index) {
    th.addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(head.cells, function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      rows.sort(function (a, b) {
        var x = a.cells[index].getAttribute('data-sort'), y = b.cells[index].getAttribute('data-sort');
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny) && nx !== ny) ? nx - ny : (x < y ? -1 : (x > y ? 1 : 0));
        return ascending ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  // a filtered view can be linked: board.html#q=relu&status=fail&differ=1 (read once; cell links use the hash too)
  location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
    var i = pair.indexOf('='), key = pair.slice(0, i), value = '';
    try { value = decodeURIComponent(pair.slice(i + 1)); } catch (e) { return; }
    if (i <= 0) { return; }
    if (key === 'q') { text.value = value; }
    if (key === 'status' && Array.prototype.some.call(state.options, function (o) { return o.value === value; })) {
      state.value = value;
    }
    if (key === 'differ') { differ.checked = value === '1'; }
  });
  text.addEventListener('input', apply);
  state.addEventListener('change', apply);
  differ.addEventListener('change', apply);
  apply();
  document.body.setAttribute('data-ready', '1');
})();
