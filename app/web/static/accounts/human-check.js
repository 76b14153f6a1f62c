/* The ALTCHA proof-of-work (v1, SHA-256) solved in the browser: find n with sha256(salt + n) == challenge.
   Fills every <input name="human_check"> and says so in the element with id "human-check-status". */
(function () {
  var inputs = document.querySelectorAll('input[name="human_check"]');
  if (!inputs.length) return;
  var status = document.getElementById('human-check-status');
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  async function solve() {
    if (status) status.textContent = '正在进行人机验证…';
    var c = await (await fetch('/api/v1/accounts/human-check', {credentials: 'same-origin'})).json();
    var encoder = new TextEncoder();
    for (var n = 0; n <= c.maxNumber; n++) {
      var digest = hex(await crypto.subtle.digest('SHA-256', encoder.encode(c.salt + n)));
      if (digest === c.challenge) {
        var payload = btoa(JSON.stringify({algorithm: c.algorithm, challenge: c.challenge, number: n,
                                           salt: c.salt, signature: c.signature}));
        inputs.forEach(function (input) { input.value = payload; });
        if (status) { status.textContent = '人机验证已完成'; status.dataset.done = '1'; }
        return;
      }
    }
    if (status) status.textContent = '人机验证失败，请刷新页面重试';
  }
  solve();
})();
