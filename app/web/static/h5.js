// Little JavaScript: the live amount preview, confirmation dialogs, the in-app pay step, polling an order being paid.
(function () {
  var input = document.querySelector("[data-preview-url]");
  if (input) {
    var out = document.getElementById("preview");
    var timer;
    var update = function () {
      var url = input.getAttribute("data-preview-url");
      var param = input.name === "grade" ? "grade=" : "base_yuan=";
      var value = input.name === "grade" ? (document.querySelector("input[name=grade]:checked") || {}).value : input.value;
      if (!value) { out.textContent = ""; return; }
      fetch(url + "?" + param + encodeURIComponent(value), {credentials: "same-origin"})
        .then(function (r) { return r.json().then(function (d) { return [r.ok, d]; }); })
        .then(function (res) {
          out.textContent = res[0] ? "每期应缴 " + (res[1].amount_per_period_fen / 100).toFixed(2) + " 元，全年 "
            + (res[1].amount_per_year_fen / 100).toFixed(2) + " 元" : res[1].error;
        });
    };
    document.querySelectorAll("input[name=grade]").forEach(function (r) { r.addEventListener("change", update); });
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 300); });
  }
  // The in-app pay step: WeChat's JS bridge inside WeChat; elsewhere the provider's cashier in a new window
  var pay = document.querySelector("[data-app-params]");
  if (pay) {
    pay.addEventListener("click", function () {
      var params = JSON.parse(pay.getAttribute("data-app-params"));
      if (window.WeixinJSBridge) {
        window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function () { window.location.reload(); });
      } else if (pay.getAttribute("data-fallback-url")) {
        window.open(pay.getAttribute("data-fallback-url"), "_blank");
      }
    });
  }
  // A confirmation (WeUI dialog) before a form that voids or cancels something
  var mask = document.getElementById("confirm-mask"), dialog = document.getElementById("confirm-dialog");
  var pending = null;
  var closeDialog = function () { mask.hidden = true; dialog.hidden = true; pending = null; };
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-confirmed") === "1") { return; }
      event.preventDefault();
      pending = form;
      document.getElementById("confirm-text").textContent = form.getAttribute("data-confirm");
      mask.hidden = false; dialog.hidden = false;
      document.getElementById("confirm-yes").focus();
    });
  });
  if (dialog) {
    document.getElementById("confirm-no").addEventListener("click", closeDialog);
    document.getElementById("confirm-yes").addEventListener("click", function () {
      var form = pending;
      closeDialog();
      if (form) { form.setAttribute("data-confirmed", "1"); form.submit(); }
    });
  }
  // 代他人开具: the other person's fields only when that is chosen
  var other = document.getElementById("other-person");
  if (other) {
    var sync = function () { other.hidden = !document.getElementById("for-other").checked; };
    document.querySelectorAll("input[name=for]").forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  }
  var poll = document.querySelector("[data-poll-url]");
  if (poll) {
    setInterval(function () {
      fetch(poll.getAttribute("data-poll-url"), {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (d) { if (d.state !== poll.getAttribute("data-state")) { window.location.reload(); } });
    }, 2000);
  }
})();
