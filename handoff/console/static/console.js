// Operators' console: live queue, live messages, replies without reloading.
// No inline scripts (the pages' Content-Security-Policy forbids them); every
// state-changing call sends the session's CSRF token in X-CSRF-Token.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var STATUS = { waiting: "ждёт", assigned: "у оператора", closed: "закрыто" };
  var CHANNEL = { rest: "REST", socketio: "веб-виджет", telegram: "Telegram", vk: "ВКонтакте", voice: "телефон" };
  var REASON = { request: "просьба гражданина", fallback: "бот не понял", status_locked: "блокировка проверки",
                 fraud: "мошенничество", complaint: "жалоба" };
  var SPEAKER = { citizen: "Гражданин", operator: "Оператор", bot: "Бот", system: "Служебное" };

  function api(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (reply) {
      if (reply.status === 401) { window.location.href = "/login?reason=expired"; throw new Error("401"); }
      return reply.json().then(function (data) {
        if (!reply.ok) { throw new Error(data.error || ("HTTP " + reply.status)); }
        return data;
      });
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function minutes(seconds) {
    var m = Math.max(1, Math.ceil((seconds || 0) / 60));
    if (m >= 60) { return Math.floor(m / 60) + " ч " + (m % 60) + " мин"; }
    return m + " мин";
  }

  function clock(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    var tz = document.body.getAttribute("data-tz") || undefined;
    try {
      return d.toLocaleString("ru-RU", { timeZone: tz });
    } catch (e) {
      return d.toLocaleString("ru-RU");
    }
  }

  // --- the queue ---------------------------------------------------------
  function renderQueue(data) {
    var body = document.getElementById("queue-body");
    if (!body) { return; }
    document.getElementById("count-waiting").textContent = data.waiting;
    document.getElementById("count-assigned").textContent = data.assigned;
    document.getElementById("count-online").textContent = data.operators_online;
    body.textContent = "";
    if (!data.tickets.length) {
      var empty = el("tr", { id: "queue-empty" });
      empty.appendChild(el("td", { colspan: "8" }, "Очередь пуста."));
      body.appendChild(empty);
      return;
    }
    data.tickets.forEach(function (t) {
      var row = el("tr", { id: "ticket-row-" + t.id, "class": "status-" + t.status + (t.mine ? " mine" : "") });
      row.appendChild(el("td", {}, String(t.id)));
      row.appendChild(el("td", {}, STATUS[t.status] + (t.position ? " (" + t.position + "-й)" : "")));
      row.appendChild(el("td", {}, (CHANNEL[t.channel] || t.channel) + (t.offline ? ", заявка вне часов" : "")));
      row.appendChild(el("td", {}, REASON[t.reason] || t.reason));
      row.appendChild(el("td", { "class": "summary-cell" }, t.summary));
      row.appendChild(el("td", {}, minutes(t.waiting_seconds)));
      row.appendChild(el("td", {}, t.operator_name || "—"));
      var actions = el("td", {});
      if (t.status === "waiting") {
        var form = el("form", { method: "post", action: "/tickets/" + t.id + "/take", "class": "inline" });
        form.appendChild(el("input", { type: "hidden", name: "csrf_token", value: csrf }));
        form.appendChild(el("button", { type: "submit", id: "take-" + t.id }, "Взять"));
        actions.appendChild(form);
      }
      if (t.readable) { actions.appendChild(el("a", { href: "/tickets/" + t.id, id: "open-" + t.id }, "Открыть")); }
      row.appendChild(actions);
      body.appendChild(row);
    });
  }

  function pollQueue() {
    api("GET", "/api/queue").then(renderQueue).catch(function () {}).then(function () {
      setTimeout(pollQueue, 2000);
    });
  }

  // --- a ticket ----------------------------------------------------------
  function appendMessage(list, m) {
    if (document.getElementById("message-" + m.id)) { return; }
    var item = el("li", { "class": "who-" + m.direction, id: "message-" + m.id });
    var who = SPEAKER[m.direction] || "—";
    if (m.direction === "operator" && m.operator_name) { who += " " + m.operator_name; }
    item.appendChild(el("span", { "class": "speaker" }, who));
    item.appendChild(el("span", { "class": "time" }, clock(m.at)));
    item.appendChild(el("div", { "class": "text" }, m.text));
    if (m.delivery_error) { item.appendChild(el("div", { "class": "error" }, "Не доставлено: " + m.delivery_error)); }
    list.appendChild(item);
  }

  function ticketPage() {
    var facts = document.getElementById("ticket-facts");
    var list = document.getElementById("live-messages");
    if (!facts || !list) { return; }
    var id = facts.getAttribute("data-ticket");
    var last = parseInt(facts.getAttribute("data-last-message"), 10) || 0;
    var status = facts.getAttribute("data-status");

    // A form that really submits (closing, taking) navigates away; a reload from
    // the poll, which sees the new status first, would cancel that navigation and
    // leave the operator on the closed ticket instead of the queue.
    var leaving = false;
    document.addEventListener("submit", function (event) { if (!event.defaultPrevented) { leaving = true; } });

    function poll() {
      if (leaving) { return; }
      api("GET", "/api/tickets/" + id + "/messages?after=" + last).then(function (data) {
        data.messages.forEach(function (m) { appendMessage(list, m); last = Math.max(last, m.id); });
        if (data.ticket.status !== status && !leaving) { window.location.reload(); }
      }).catch(function () {}).then(function () { setTimeout(poll, 1000); });
    }
    setTimeout(poll, 1000);

    var canned = document.getElementById("canned");
    var text = document.getElementById("reply-text");
    if (canned && text) {
      canned.addEventListener("change", function () {
        var option = canned.options[canned.selectedIndex];
        if (option && option.getAttribute("data-text")) { text.value = option.getAttribute("data-text"); text.focus(); }
      });
    }
    var form = document.getElementById("reply-form");
    var state = document.getElementById("reply-status");
    if (form && text) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var value = text.value.trim();
        if (!value) { return; }
        state.textContent = "Отправка…";
        api("POST", "/api/tickets/" + id + "/messages", { text: value }).then(function (m) {
          appendMessage(list, m);
          last = Math.max(last, m.id);
          text.value = "";
          state.textContent = "Доставлено";
        }).catch(function (error) { state.textContent = "Ошибка: " + error.message; });
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.body.getAttribute("data-page");
    if (page === "queue") { setTimeout(pollQueue, 2000); }
    if (page === "ticket") { ticketPage(); }
  });
})();
