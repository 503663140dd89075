// «Прослушать»: the voice text as typed (not yet saved), synthesised on the
// server; the answer is a same-origin URL the page's <audio> plays.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.listen");
    if (!button) { return; }
    var text = document.getElementById(button.dataset.text).value;
    var player = document.getElementById(button.dataset.player);
    var status = document.getElementById(button.dataset.status);
    button.disabled = true;
    status.textContent = "Синтезирую речь…";
    window.workbench.post("/api/responses/preview", { text: text }).then(function (reply) {
      button.disabled = false;
      if (!reply.ok) {
        status.textContent = (reply.data && reply.data.error) || "Не удалось синтезировать речь.";
        return;
      }
      status.textContent = "Готово: воспроизвожу.";
      player.src = reply.data.url;
      var played = player.play();
      if (played && played.catch) { played.catch(function () { status.textContent = "Готово: нажмите ▶ в плеере."; }); }
    });
  });
})();
