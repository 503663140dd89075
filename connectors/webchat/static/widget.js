/*!
 * Веб-чат горячей линии Госуслуг — встраиваемый виджет для канала socket.io Rasa.
 *
 * Встраивание — один тег:
 *   <script src="https://example.ru/webchat/widget.js"
 *           data-server="https://bot.example.ru" defer></script>
 *
 * Без сборки и без фреймворков. Клиент socket.io (vendor/socket.io.min.js,
 * MIT) подгружается из папки рядом с этим файлом и не остаётся в глобальной
 * области страницы. Разметка и стили живут в Shadow DOM, так что CSS
 * портала не влияет на виджет, а CSS виджета — на портал.
 * Параметры data-* описаны в docs/channels/webchat.md.
 */
(function () {
  "use strict";

  if (window.HotlineWebchat && window.HotlineWebchat.version) {
    return; // the tag was included twice
  }

  var VERSION = "1.0.0";

  // document.currentScript is only set while this file runs for the first time.
  var script = document.currentScript || (function () {
    var all = document.querySelectorAll("script[src*='widget.js']");
    return all[all.length - 1] || null;
  })();
  var data = (script && script.dataset) || {};
  var scriptUrl = script && script.src ? script.src : location.href;

  function intOption(value, fallback) {
    var n = parseInt(value, 10);
    return isNaN(n) ? fallback : n;
  }

  function splitList(value) {
    return String(value).split(",").map(function (s) { return s.trim(); })
      .filter(function (s) { return s; });
  }

  var config = {
    server: data.server || new URL(scriptUrl).origin,
    socketPath: data.socketPath || "/socket.io",
    // WebSocket only by default: no sticky sessions, no CORS for long polling.
    transports: splitList(data.transports || "websocket"),
    userEvent: data.userEvent || "user_uttered",
    botEvent: data.botEvent || "bot_uttered",
    title: data.title || "Помощник горячей линии",
    subtitle: data.subtitle || "Госуслуги",
    launcherText: data.launcherText || "Чат с помощником",
    welcome: data.welcome || "Здравствуйте! Задайте вопрос об услугах, регистрации на портале, " +
      "статусе заявления или записи в МФЦ.",
    initialPayload: data.initialPayload || "",
    storageKey: data.storageKey || "hotline-webchat",
    historyLimit: Math.max(0, intOption(data.historyLimit, 50)),
    position: data.position === "left" ? "left" : "right",
    openOnLoad: data.open === "true",
    socketioSrc: data.socketioSrc || new URL("vendor/socket.io.min.js", scriptUrl).href,
    replyTimeoutMs: intOption(data.replyTimeout, 45000)
  };

  var TEXT = {
    close: "Закрыть чат",
    closeHint: "Закрыть чат (Esc)",
    largeFont: "Крупный шрифт",
    contrast: "Высокий контраст",
    clear: "Очистить",
    clearHint: "Очистить историю и начать новый диалог",
    settings: "Настройки отображения",
    log: "Переписка с помощником",
    input: "Сообщение помощнику",
    placeholder: "Введите сообщение",
    send: "Отправить",
    you: "Вы:",
    bot: "Помощник:",
    replies: "Варианты ответа",
    typing: "Помощник печатает…",
    newTab: " (откроется в новой вкладке)",
    image: "Изображение",
    unread: "новое сообщение",
    connecting: "Подключение…",
    online: "На связи",
    reconnecting: "Нет связи, переподключаемся…",
    lost: "Связь потеряна, переподключаемся…",
    restored: "Связь восстановлена",
    cannotConnect: "Не удаётся подключиться к серверу, пробуем снова…",
    connected: "Связь установлена",
    loadFailed: "Не удалось загрузить чат. Обновите страницу или позвоните на горячую линию.",
    noAnswer: "Ответ задерживается. Подождите немного или повторите вопрос.",
    cleared: "История очищена, начат новый диалог.",
    queued: "Сообщение будет отправлено, когда связь восстановится."
  };

  // ---------------------------------------------------------------- storage
  // localStorage can be missing or throw (private mode, blocked cookies):
  // fall back to memory, the chat still works for this page view.
  function makeStore(areaName) {
    var memory = {};
    function area() {
      try { return window[areaName]; } catch (e) { return null; }
    }
    return {
      get: function (key) {
        try { var a = area(); if (a) return a.getItem(key); } catch (e) { /* fall through */ }
        return Object.prototype.hasOwnProperty.call(memory, key) ? memory[key] : null;
      },
      set: function (key, value) {
        memory[key] = value;
        try { var a = area(); if (a) a.setItem(key, value); } catch (e) { /* quota, private mode */ }
      },
      remove: function (key) {
        delete memory[key];
        try { var a = area(); if (a) a.removeItem(key); } catch (e) { /* ignore */ }
      }
    };
  }

  var local = makeStore("localStorage");
  var tab = makeStore("sessionStorage");
  var KEY = {
    session: config.storageKey + ":session",
    // The server's signed proof that this browser owns the session: presented
    // on reconnect; without it the server starts a new conversation.
    token: config.storageKey + ":token",
    history: config.storageKey + ":history",
    prefs: config.storageKey + ":prefs",
    open: config.storageKey + ":open"
  };

  function readJson(store, key, fallback) {
    try {
      var value = JSON.parse(store.get(key));
      return value === null || value === undefined ? fallback : value;
    } catch (e) {
      return fallback;
    }
  }

  var sessionId = local.get(KEY.session) || null;
  var sessionToken = local.get(KEY.token) || null;
  var history = readJson(local, KEY.history, []);
  if (!Array.isArray(history)) history = [];
  var prefs = readJson(local, KEY.prefs, {});
  if (!prefs || typeof prefs !== "object") prefs = {};

  function saveHistory() {
    if (history.length > config.historyLimit) {
      history = history.slice(history.length - config.historyLimit);
    }
    if (config.historyLimit > 0) local.set(KEY.history, JSON.stringify(history));
  }

  // ------------------------------------------------------------------- DOM
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) return;
        if (name === "text") node.textContent = value;
        else if (name === "className") node.className = value;
        else node.setAttribute(name, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function safeUrl(value) {
    if (typeof value !== "string") return null;
    try {
      var url = new URL(value, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(href, label) {
    return el("a", { href: href, target: "_blank", rel: "noopener noreferrer" },
      [label, el("span", { className: "sr-only", text: TEXT.newTab })]);
  }

  // http(s) URLs become links; closing punctuation after a URL stays text.
  var URL_RE = /https?:\/\/[^\s<>"'«»]+/gi;

  function linkify(text, parent) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var url = match[0];
      while (/[.,;:!?)\]}»]$/.test(url)) {
        if (url.slice(-1) === ")" && (url.split("(").length > url.split(")").length - 1)) break;
        url = url.slice(0, -1);
      }
      var start = match.index;
      var href = safeUrl(url);
      if (!href) continue;
      if (start > last) parent.appendChild(document.createTextNode(text.slice(last, start)));
      parent.appendChild(link(href, url));
      last = start + url.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // Bot text: lines starting with «• » become a list, other lines keep their
  // line breaks, blank lines separate paragraphs. Only text nodes are created.
  function renderText(text, parent) {
    var lines = String(text).replace(/\r\n?/g, "\n").replace(/\s+$/, "").split("\n");
    var para = null;
    var list = null;
    lines.forEach(function (line) {
      var item = /^\s*•\s*(.*)$/.exec(line);
      if (item) {
        para = null;
        if (!list) { list = el("ul"); parent.appendChild(list); }
        var li = el("li");
        linkify(item[1], li);
        list.appendChild(li);
        return;
      }
      list = null;
      if (!line.trim()) { para = null; return; }
      if (para) para.appendChild(el("br"));
      else { para = el("p"); parent.appendChild(para); }
      linkify(line, para);
    });
  }

  // ------------------------------------------------------------------ styles
  var CSS = [
    ":host{all:initial;}",
    "*,*::before,*::after{box-sizing:border-box;}",
    "[hidden]{display:none!important;}",
    ".root{position:fixed;bottom:20px;right:20px;z-index:2147483000;font-family:'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;",
    "font-size:16px;line-height:1.45;color:#1b1f24;text-align:left;-webkit-text-size-adjust:100%;",
    // Inherited properties the portal might set on <body>: reset them here.
    "font-style:normal;font-weight:400;letter-spacing:normal;word-spacing:normal;text-transform:none;text-shadow:none;",
    "white-space:normal;direction:ltr;visibility:visible;cursor:auto;}",
    ".root.left{right:auto;left:20px;}",
    ".root.large{font-size:20px;}",
    ".sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0;}",
    "button{font:inherit;cursor:pointer;margin:0;}",
    ".launcher{display:inline-flex;align-items:center;gap:.5em;padding:.8em 1.25em;border:2px solid transparent;border-radius:2em;",
    "background:#0d4cd3;color:#fff;font-weight:600;box-shadow:0 4px 16px rgba(0,0,0,.28);}",
    ".launcher:hover{background:#0a3ba6;}",
    ".launcher svg{width:1.3em;height:1.3em;fill:currentColor;flex:none;}",
    ".badge{background:#d0021b;color:#fff;border-radius:1em;font-size:.75em;padding:.1em .55em;}",
    ".panel{display:flex;flex-direction:column;width:25em;max-width:calc(100vw - 40px);height:38em;max-height:calc(100vh - 40px);",
    "background:#fff;border:1px solid #c4cddb;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.28);overflow:hidden;}",
    ".header{display:flex;align-items:flex-start;gap:.75em;padding:.8em 1em;background:#0d4cd3;color:#fff;}",
    ".header .titles{flex:1;min-width:0;}",
    ".title{margin:0;font-size:1.1em;font-weight:700;line-height:1.25;}",
    ".status{margin:.15em 0 0;font-size:.8em;opacity:.95;}",
    ".status::before{content:'';display:inline-block;width:.6em;height:.6em;border-radius:50%;margin-right:.4em;background:#f5b400;}",
    ".status.online::before{background:#3ddc84;}",
    ".close{flex:none;width:2em;height:2em;border:2px solid rgba(255,255,255,.6);border-radius:50%;background:transparent;color:#fff;",
    "font-size:1.05em;line-height:1;display:inline-flex;align-items:center;justify-content:center;padding:0;}",
    ".close:hover{background:rgba(255,255,255,.15);}",
    ".settings{display:flex;flex-wrap:wrap;gap:.4em;padding:.5em .75em;background:#f3f6fb;border-bottom:1px solid #dde3ec;}",
    ".opt{font-size:.8em;padding:.3em .8em;border:1px solid #8a9ab3;border-radius:1em;background:#fff;color:#1b1f24;}",
    ".opt[aria-pressed='true']{background:#0d4cd3;border-color:#0d4cd3;color:#fff;}",
    ".opt[aria-pressed='true']::before{content:'✓ ';}",
    ".opt.clear{margin-left:auto;}",
    ".log{flex:1;overflow-y:auto;padding:1em;display:flex;flex-direction:column;gap:.65em;background:#fff;}",
    ".empty{margin:auto 0;color:#4d5766;font-size:.95em;text-align:center;}",
    ".msg{display:flex;flex-direction:column;max-width:88%;}",
    ".msg.bot{align-self:flex-start;align-items:flex-start;}",
    ".msg.user{align-self:flex-end;align-items:flex-end;}",
    ".bubble{padding:.6em .85em;border-radius:1em;overflow-wrap:anywhere;word-break:break-word;border:2px solid transparent;}",
    ".msg.bot .bubble{background:#eef2f8;color:#1b1f24;border-bottom-left-radius:.3em;}",
    ".msg.user .bubble{background:#0d4cd3;color:#fff;border-bottom-right-radius:.3em;white-space:pre-wrap;}",
    ".bubble p{margin:0;}",
    ".bubble p+p,.bubble p+ul,.bubble ul+p,.bubble ul+ul{margin-top:.5em;}",
    ".bubble ul{margin:.3em 0 0;padding-left:1.25em;}",
    ".bubble li+li{margin-top:.2em;}",
    ".bubble a{color:#0b3aa8;text-decoration:underline;}",
    ".bubble img{display:block;max-width:100%;border-radius:.5em;}",
    ".card{margin-top:.4em;}",
    ".card-title{font-weight:700;margin:0;}",
    ".card-subtitle{margin:.2em 0 0;}",
    ".links{margin-top:.5em;display:flex;flex-wrap:wrap;gap:.4em;}",
    ".links a{font-size:.9em;padding:.35em .9em;border:2px solid #0d4cd3;border-radius:1.2em;color:#0d4cd3;background:#fff;}",
    ".links a::after{content:' ↗';}",
    ".replies{display:flex;flex-wrap:wrap;gap:.4em;margin-top:.55em;}",
    ".reply{font-size:.9em;padding:.35em .9em;border:2px solid #0d4cd3;border-radius:1.2em;background:#fff;color:#0d4cd3;text-align:left;}",
    ".reply:hover{background:#e6eefe;}",
    ".notice{align-self:center;max-width:92%;margin:0;font-size:.85em;text-align:center;padding:.3em .85em;border-radius:.7em;",
    "background:#fff6dc;border:1px solid #e6c15a;color:#4a3b00;}",
    ".notice.ok{background:#e5f6ea;border-color:#8fcb9f;color:#134d24;}",
    ".typing{display:flex;align-items:center;gap:.55em;padding:.2em 1em .5em;color:#4d5766;font-size:.85em;}",
    ".dots{display:inline-flex;gap:.2em;}",
    ".dots i{display:block;width:.5em;height:.5em;border-radius:50%;background:#7d8aa0;animation:hw-blink 1.2s infinite ease-in-out both;}",
    ".dots i:nth-child(2){animation-delay:.2s;}.dots i:nth-child(3){animation-delay:.4s;}",
    "@keyframes hw-blink{0%,80%,100%{opacity:.25;transform:scale(.8);}40%{opacity:1;transform:scale(1);}}",
    ".composer{display:flex;gap:.5em;align-items:flex-end;padding:.6em .75em;border-top:1px solid #dde3ec;background:#fff;margin:0;}",
    ".input{flex:1;min-width:0;font:inherit;color:inherit;background:#fff;resize:none;border:1px solid #7d8aa0;border-radius:.6em;",
    "padding:.5em .7em;height:2.6em;max-height:8em;line-height:1.35;}",
    ".input::placeholder{color:#5f6b7d;opacity:1;}",
    ".send{flex:none;height:2.6em;padding:0 1em;border:2px solid transparent;border-radius:.6em;background:#0d4cd3;color:#fff;font-weight:600;}",
    ".send:hover{background:#0a3ba6;}",
    "button:focus-visible,a:focus-visible,.log:focus-visible{outline:3px solid #111;outline-offset:2px;box-shadow:0 0 0 5px #fff;}",
    ".input:focus{outline:3px solid #111;outline-offset:1px;}",
    ".header button:focus-visible{outline-color:#fff;box-shadow:0 0 0 5px #111;}",
    "@media (prefers-reduced-motion:reduce){.dots i{animation:none;opacity:.8;}}",
    "@media (max-width:480px){.root.open{left:0;right:0;bottom:0;}",
    ".root.open .panel{width:100vw;max-width:100vw;height:100vh;height:100dvh;max-height:none;border-radius:0;}}",
    // High contrast: black background, white text, yellow controls, thick borders.
    ".contrast .launcher{background:#ff0;color:#000;border-color:#000;}",
    ".contrast .panel{background:#000;color:#fff;border:2px solid #fff;}",
    ".contrast .header{background:#000;color:#fff;border-bottom:2px solid #fff;}",
    ".contrast .close{color:#ff0;border-color:#ff0;}",
    ".contrast .settings,.contrast .composer,.contrast .log{background:#000;border-color:#fff;}",
    ".contrast .opt,.contrast .reply{background:#000;color:#ff0;border:2px solid #ff0;}",
    ".contrast .opt[aria-pressed='true']{background:#ff0;color:#000;}",
    ".contrast .msg.bot .bubble{background:#000;color:#fff;border-color:#fff;}",
    ".contrast .msg.user .bubble{background:#ff0;color:#000;border-color:#ff0;}",
    ".contrast .bubble a{color:#0ff;}",
    ".contrast .links a{background:#000;color:#0ff;border-color:#0ff;}",
    ".contrast .msg.user .bubble a{color:#000;}",
    ".contrast .notice{background:#000;color:#fff;border:2px solid #ff0;}",
    ".contrast .empty,.contrast .typing{color:#fff;}",
    ".contrast .dots i{background:#fff;}",
    ".contrast .input{background:#000;color:#fff;border:2px solid #fff;}",
    ".contrast .input::placeholder{color:#ccc;}",
    ".contrast .send{background:#ff0;color:#000;}",
    ".contrast button:focus-visible,.contrast a:focus-visible,.contrast .log:focus-visible,.contrast .input:focus",
    "{outline:3px solid #0ff;outline-offset:2px;box-shadow:none;}",
    "@media (forced-colors:active){.bubble,.reply,.opt,.notice,.launcher,.send{border:1px solid CanvasText;}",
    ".opt[aria-pressed='true']{outline:2px solid Highlight;}}"
  ].join("\n");

  // ---------------------------------------------------------------- widget
  var host = document.createElement("hotline-webchat");
  var shadow = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  if (shadow.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } catch (e) {
      shadow.appendChild(el("style", { text: CSS }));
    }
  } else {
    shadow.appendChild(el("style", { text: CSS }));
  }

  var CHAT_ICON = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  var svgNS = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(svgNS, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("focusable", "false");
  var iconPath = document.createElementNS(svgNS, "path");
  iconPath.setAttribute("d", CHAT_ICON);
  icon.appendChild(iconPath);

  var badge = el("span", { className: "badge", "aria-hidden": "true", hidden: true, text: "1" });
  var launcherLabel = el("span", { className: "launcher-text", text: config.launcherText });
  var launcher = el("button", {
    type: "button", className: "launcher", "aria-haspopup": "dialog", "aria-expanded": "false",
    "aria-controls": "hw-panel"
  }, [icon, launcherLabel, badge]);

  var statusLine = el("p", { className: "status", id: "hw-status", text: TEXT.connecting });
  var closeButton = el("button", {
    type: "button", className: "close", "aria-label": TEXT.close, title: TEXT.closeHint
  }, [el("span", { "aria-hidden": "true", text: "✕" })]);
  var header = el("div", { className: "header" }, [
    el("div", { className: "titles" }, [
      el("h2", { className: "title", id: "hw-title", text: config.title }),
      statusLine
    ]),
    closeButton
  ]);

  var largeButton = el("button", { type: "button", className: "opt", "aria-pressed": "false", text: TEXT.largeFont });
  var contrastButton = el("button", { type: "button", className: "opt", "aria-pressed": "false", text: TEXT.contrast });
  var clearButton = el("button", {
    type: "button", className: "opt clear", title: TEXT.clearHint, "aria-label": TEXT.clearHint
  }, [el("span", { "aria-hidden": "true", text: TEXT.clear })]);
  var settings = el("div", { className: "settings", role: "group", "aria-label": TEXT.settings },
    [largeButton, contrastButton, clearButton]);

  var emptyHint = el("p", { className: "empty", text: config.welcome });
  var log = el("div", {
    className: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": TEXT.log, tabindex: "0"
  }, [emptyHint]);

  var typing = el("div", { className: "typing", role: "status", hidden: true }, [
    el("span", { className: "dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]),
    el("span", { text: TEXT.typing })
  ]);

  var input = el("textarea", {
    id: "hw-input", className: "input", rows: "1", placeholder: TEXT.placeholder, maxlength: "2000",
    autocomplete: "off", "aria-label": TEXT.input
  });
  var sendButton = el("button", { type: "submit", className: "send", text: TEXT.send });
  var form = el("form", { className: "composer", novalidate: true }, [input, sendButton]);

  var panel = el("section", {
    id: "hw-panel", className: "panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "hw-title", "aria-describedby": "hw-status", hidden: true
  }, [header, settings, log, typing, form]);

  var root = el("div", { className: "root" + (config.position === "left" ? " left" : ""), lang: "ru" },
    [launcher, panel]);
  shadow.appendChild(root);

  // ----------------------------------------------------------- preferences
  function applyPrefs() {
    root.classList.toggle("large", !!prefs.large);
    root.classList.toggle("contrast", !!prefs.contrast);
    largeButton.setAttribute("aria-pressed", prefs.large ? "true" : "false");
    contrastButton.setAttribute("aria-pressed", prefs.contrast ? "true" : "false");
  }

  function togglePref(name) {
    prefs[name] = !prefs[name];
    local.set(KEY.prefs, JSON.stringify(prefs));
    applyPrefs();
  }

  largeButton.addEventListener("click", function () { togglePref("large"); });
  contrastButton.addEventListener("click", function () { togglePref("contrast"); });

  // -------------------------------------------------------------- messages
  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function removeReplies() {
    var groups = log.querySelectorAll(".replies");
    for (var i = 0; i < groups.length; i++) groups[i].parentNode.removeChild(groups[i]);
  }

  function renderButtons(record, container) {
    var replies = [];
    var links = [];
    (record.buttons || []).forEach(function (b) {
      var url = b.url ? safeUrl(b.url) : null;
      if (url) links.push(link(url, b.title));
      else replies.push(b);
    });
    if (links.length) container.appendChild(el("div", { className: "links" }, links));
    if (!replies.length || record.answered) return;
    var group = el("div", { className: "replies", role: "group", "aria-label": TEXT.replies });
    replies.forEach(function (b) {
      var button = el("button", { type: "button", className: "reply", text: b.title });
      button.addEventListener("click", function () {
        sendMessage(b.payload, b.title);
        input.focus();
      });
      group.appendChild(button);
    });
    container.appendChild(group);
  }

  function renderAttachment(att, bubble) {
    if (att.type === "image" && att.src) {
      var img = el("img", { src: att.src, alt: att.title || TEXT.image, loading: "lazy" });
      bubble.appendChild(el("a", { href: att.src, target: "_blank", rel: "noopener noreferrer" }, [img]));
    } else if (att.type === "cards") {
      att.cards.forEach(function (card) {
        var box = el("div", { className: "card" });
        if (card.image) box.appendChild(el("img", { src: card.image, alt: card.title || TEXT.image, loading: "lazy" }));
        if (card.title) box.appendChild(el("p", { className: "card-title", text: card.title }));
        if (card.subtitle) {
          var sub = el("p", { className: "card-subtitle" });
          linkify(card.subtitle, sub);
          box.appendChild(sub);
        }
        bubble.appendChild(box);
      });
    } else if (att.url) {
      var p = el("p");
      p.appendChild(link(att.url, att.title || att.url));
      bubble.appendChild(p);
    }
  }

  function renderRecord(record) {
    var node = el("div", { className: "msg " + (record.from === "user" ? "user" : "bot") });
    node.appendChild(el("span", { className: "sr-only", text: (record.from === "user" ? TEXT.you : TEXT.bot) + " " }));
    var bubble = el("div", { className: "bubble" });
    if (record.from === "user") {
      bubble.textContent = record.text;
    } else {
      if (record.text) renderText(record.text, bubble);
      if (record.attachment) renderAttachment(record.attachment, bubble);
    }
    if (bubble.firstChild) node.appendChild(bubble);
    if (record.from !== "user") renderButtons(record, node);
    return node;
  }

  function appendRecord(record, persist) {
    emptyHint.hidden = true;
    log.appendChild(renderRecord(record));
    if (persist) {
      history.push(record);
      saveHistory();
    }
    scrollToEnd();
  }

  function notice(text, ok) {
    emptyHint.hidden = true;
    log.appendChild(el("p", { className: "notice" + (ok ? " ok" : ""), text: text }));
    scrollToEnd();
  }

  // Bot messages as Rasa's socket.io channel emits them: {text},
  // {text, quick_replies: [{title, payload}]}, {attachment: {...}}, or custom
  // JSON with text / buttons.
  function normalizeButtons(buttons) {
    if (!Array.isArray(buttons)) return null;
    var out = [];
    buttons.forEach(function (b) {
      if (!b || typeof b !== "object") return;
      var title = b.title != null ? String(b.title) : (b.payload != null ? String(b.payload) : "");
      if (!title) return;
      var payload = b.payload != null ? String(b.payload) : title;
      var url = b.url || (b.type === "web_url" ? b.payload : null) ||
        (/^https?:\/\//i.test(payload) ? payload : null);
      out.push(url && safeUrl(url) ? { title: title, url: safeUrl(url) } : { title: title, payload: payload });
    });
    return out.length ? out : null;
  }

  function normalizeAttachment(att) {
    if (!att || typeof att !== "object") return null;
    var payload = att.payload && typeof att.payload === "object" ? att.payload : {};
    var src = safeUrl(payload.src || payload.url || att.src || att.url);
    if (att.type === "image" && src) return { type: "image", src: src, title: payload.title || att.title || "" };
    if (att.type === "template") {
      var elements = payload.elements;
      if (elements && !Array.isArray(elements)) elements = [elements];
      var cards = [];
      var buttons = [];
      (elements || []).forEach(function (e) {
        if (!e || typeof e !== "object") return;
        cards.push({
          title: e.title ? String(e.title) : "",
          subtitle: e.subtitle ? String(e.subtitle) : "",
          image: safeUrl(e.image_url)
        });
        buttons = buttons.concat(normalizeButtons(e.buttons) || []);
      });
      return cards.length ? { type: "cards", cards: cards, buttons: buttons } : null;
    }
    if (src) return { type: "link", url: src, title: payload.title || payload.name || att.title || "" };
    return null;
  }

  function onBotMessage(message) {
    if (typeof message === "string") message = { text: message };
    if (!message || typeof message !== "object") return;
    hideTyping();
    var record = { from: "bot", ts: Date.now() };
    if (message.text != null && String(message.text).trim()) record.text = String(message.text);
    var buttons = normalizeButtons(message.quick_replies || message.buttons);
    var attachment = normalizeAttachment(message.attachment) ||
      (message.image ? normalizeAttachment({ type: "image", payload: { src: message.image } }) : null);
    if (attachment) {
      if (attachment.buttons) {
        buttons = (buttons || []).concat(attachment.buttons);
        delete attachment.buttons;
      }
      record.attachment = attachment;
    }
    if (buttons && buttons.length) record.buttons = buttons;
    if (!record.text && !record.attachment && !record.buttons) return;
    appendRecord(record, true);
    if (panel.hidden) setUnread(true);
  }

  // -------------------------------------------------------------- typing
  var typingTimer = null;

  function showTyping() {
    typing.hidden = false;
    scrollToEnd();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () {
      hideTyping();
      if (connected) notice(TEXT.noAnswer);
    }, config.replyTimeoutMs);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    typing.hidden = true;
  }

  // ------------------------------------------------------------ connection
  var ioLib = null;
  var ioWaiters = null;
  var socket = null;
  var connected = false;      // session confirmed, messages can go out
  var everConnected = false;
  var troubleShown = false;   // a "connection lost" notice is on screen
  var outbox = [];
  var initialPending = !sessionId;  // data-initial-payload: once, for a brand-new conversation

  function loadSocketIo(done) {
    if (ioLib) return done(ioLib);
    if (ioWaiters) { ioWaiters.push(done); return; }
    ioWaiters = [done];
    // Keep the page's own `io` (if any) and hide AMD loaders from the UMD bundle,
    // so the client lands in our closure and nowhere else.
    var hadIo = Object.prototype.hasOwnProperty.call(window, "io");
    var pageIo = window.io;
    var amd = typeof window.define === "function" ? window.define.amd : undefined;
    if (amd) window.define.amd = undefined;
    var tag = document.createElement("script");
    tag.src = config.socketioSrc;
    tag.async = true;
    function restore() {
      if (amd) window.define.amd = amd;
      if (hadIo) window.io = pageIo;
      else { try { delete window.io; } catch (e) { window.io = undefined; } }
      if (tag.parentNode) tag.parentNode.removeChild(tag);
    }
    tag.onload = function () {
      ioLib = window.io;
      restore();
      var waiters = ioWaiters;
      ioWaiters = null;
      if (typeof ioLib !== "function") { ioLib = null; setStatus(TEXT.loadFailed, false); return; }
      waiters.forEach(function (w) { w(ioLib); });
    };
    tag.onerror = function () {
      restore();
      ioWaiters = null;
      setStatus(TEXT.loadFailed, false);
      notice(TEXT.loadFailed);
    };
    (document.head || document.documentElement).appendChild(tag);
  }

  function setStatus(text, online) {
    statusLine.textContent = text;
    statusLine.classList.toggle("online", !!online);
  }

  function trouble(text) {
    connected = false;
    setStatus(TEXT.reconnecting, false);
    if (!troubleShown) {
      troubleShown = true;
      hideTyping();
      notice(text);
    }
  }

  function connect() {
    if (socket) return;
    socket = {}; // placeholder while the client library loads
    loadSocketIo(function (io) {
      socket = io(config.server, {
        path: config.socketPath,
        transports: config.transports,
        reconnection: true,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 5000,
        timeout: 10000
      });
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: sessionId, token: sessionToken });
      });
      socket.on("session_confirm", function (confirmed) {
        var id = typeof confirmed === "string" ? confirmed : confirmed && confirmed.session_id;
        if (id) {
          sessionId = String(id);
          local.set(KEY.session, sessionId);
        }
        if (confirmed && typeof confirmed.token === "string") {
          sessionToken = confirmed.token;
          local.set(KEY.token, sessionToken);
        }
        connected = true;
        setStatus(TEXT.online, true);
        if (troubleShown) notice(everConnected ? TEXT.restored : TEXT.connected, true);
        troubleShown = false;
        everConnected = true;
        flushOutbox();
      });
      socket.on(config.botEvent, onBotMessage);
      socket.on("disconnect", function (reason) {
        if (reason === "io client disconnect") return; // we closed it ourselves
        trouble(TEXT.lost);
        // The server closed the socket on purpose: socket.io will not retry by itself.
        if (reason === "io server disconnect") socket.connect();
      });
      socket.on("connect_error", function () {
        trouble(everConnected ? TEXT.lost : TEXT.cannotConnect);
      });
    });
  }

  function flushOutbox() {
    if (initialPending && !history.length && config.initialPayload) {
      outbox.unshift(config.initialPayload);
    }
    initialPending = false;
    while (connected && outbox.length) {
      socket.emit(config.userEvent, { message: outbox.shift(), session_id: sessionId });
      showTyping();
    }
  }

  // The browser knows it is offline before TCP does: drop the socket now, so
  // the citizen is told at once and socket.io starts reconnecting.
  window.addEventListener("offline", function () {
    if (socket && socket.io && socket.connected) socket.io.engine.close();
  });
  window.addEventListener("online", function () {
    if (socket && socket.io && !socket.connected && !socket.io._reconnecting) socket.connect();
  });

  function sendMessage(payload, display) {
    var text = String(payload).trim();
    if (!text) return;
    history.forEach(function (r) { if (r.buttons) r.answered = true; });
    removeReplies();
    appendRecord({ from: "user", text: display != null ? String(display) : text, ts: Date.now() }, true);
    outbox.push(text);
    connect();
    if (!connected && troubleShown) notice(TEXT.queued);
    flushOutbox();
  }

  // ---------------------------------------------------------- open / close
  function setUnread(on) {
    badge.hidden = !on;
    if (on) launcher.setAttribute("aria-label", config.launcherText + ": " + TEXT.unread);
    else launcher.removeAttribute("aria-label");
  }

  function open(focus) {
    if (!panel.hidden) { if (focus !== false) input.focus(); return; }
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("open");
    tab.set(KEY.open, "1");
    setUnread(false);
    connect();
    scrollToEnd();
    if (focus !== false) input.focus();
  }

  function close(focusLauncher) {
    if (panel.hidden) return;
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("open");
    tab.remove(KEY.open);
    if (focusLauncher !== false) launcher.focus();
  }

  function clearConversation() {
    history = [];
    local.remove(KEY.history);
    local.remove(KEY.session);
    local.remove(KEY.token);
    sessionId = null;
    sessionToken = null;
    outbox = [];
    initialPending = true;
    hideTyping();
    while (log.lastChild && log.lastChild !== emptyHint) log.removeChild(log.lastChild);
    emptyHint.hidden = false;
    notice(TEXT.cleared, true);
    // A new socket leaves the old session's room: a fresh conversation.
    if (socket && socket.io) {
      connected = false;
      setStatus(TEXT.connecting, false);
      socket.disconnect();
      socket.connect();
    }
    input.focus();
  }

  launcher.addEventListener("click", function () { open(true); });
  closeButton.addEventListener("click", function () { close(true); });
  clearButton.addEventListener("click", clearConversation);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { input.focus(); return; }
    input.value = "";
    autoGrow();
    sendMessage(text);
    input.focus();
  });

  // Enter sends, Shift+Enter starts a new line.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (form.requestSubmit) form.requestSubmit();
      else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  function autoGrow() {
    input.style.height = "";
    if (input.scrollHeight > input.clientHeight) input.style.height = input.scrollHeight + 4 + "px";
  }
  input.addEventListener("input", autoGrow);

  // --------------------------------------------------------------- start
  applyPrefs();
  history.forEach(function (record) {
    if (record && typeof record === "object") appendRecord(record, false);
  });

  function mount() {
    document.body.appendChild(host);
    if (tab.get(KEY.open) || config.openOnLoad) open(false);
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.HotlineWebchat = {
    version: VERSION,
    open: function () { open(true); },
    close: function () { close(false); },
    send: function (text) { sendMessage(text); },
    clear: clearConversation,
    sessionId: function () { return sessionId; }
  };
})();
