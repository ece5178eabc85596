/* The chat panel (/widget/panel.js): loaded by the loader on first open. Wrapped by the server
 * (widget/bundle.py) in one function with `io` (the vendored socket.io client), SETTINGS
 * (catalogue, attachment limits) and PANEL_CSS. Protocol: docs/customer-api.md. Text from the
 * wire is put in the page with textContent, never as HTML. */
window.ChatWidget._attach(function (ctx) {
  var config = ctx.config;
  var root = ctx.root;
  var emit = ctx.emit;
  var server = config.server;
  var ACK_TIMEOUT_MS = 10000;
  var TYPING_SHOWN_MS = 3000;
  var TYPING_SENT_EVERY_MS = 2000;
  var KEPT_MESSAGES = 300;
  var SHOWN_ACTIVITIES = ["greetings", "handOff", "noAgentAvailable", "participantJoined", "participantLeft", "endOfConversation", "outsideBusinessHours", "callbackState"];

  // --- state, kept in localStorage so a reload, a second tab or a restart loses nothing ------

  function fresh() {
    return {
      conversationId: null, key: null, me: null, email: "", lastSequence: 0, messages: [], pending: [],
      ended: false, agentRead: 0, readSent: 0, unread: 0, language: config.language, startRequestId: null,
      callback: null, callbackRequestId: null,
    };
  }
  function loadState(text) {
    try {
      var saved = JSON.parse((text === undefined ? localStorage.getItem(config.storeKey) : text) || "null");
      if (saved && typeof saved === "object") {
        var state = fresh();
        for (var k in state) if (k in saved) state[k] = saved[k];
        return state;
      }
    } catch (error) { /* storage blocked or broken: start afresh */ }
    return fresh();
  }
  var state = loadState();
  if (state.language) config.language = state.language;
  function save() {
    if (state.messages.length > KEPT_MESSAGES) state.messages = state.messages.slice(-KEPT_MESSAGES);
    try {
      localStorage.setItem(config.storeKey, JSON.stringify(state));
    } catch (error) { /* full or blocked: the server still has everything */ }
  }

  // --- texts ---------------------------------------------------------------------------------

  var catalogue = SETTINGS.catalogue;
  function lang() {
    var base = String(config.language || "en").split("-")[0];
    return catalogue[base] ? base : "en";
  }
  function t(key, vars) {
    var text = catalogue[lang()][key] || catalogue.en[key] || key;
    return text.replace(/\{(\w+)\}/g, function (_, name) { return vars && vars[name] != null ? vars[name] : ""; });
  }
  // A server error in the visitor's language: the catalogue's "error" + its code in camel case
  // (ATTACHMENT_TOO_LARGE: errorAttachmentTooLarge) when it has one, else the server's message.
  function reason(error) {
    var code = (error && error.code) || "";
    var key = "error" + code.toLowerCase().replace(/(^|_)([a-z])/g, function (_, __, c) { return c.toUpperCase(); });
    return code && catalogue.en[key] ? t(key) : (error && error.message) || "";
  }
  function failure(response, json) {
    var error = new Error((json.error && json.error.message) || response.statusText);
    error.code = json.error && json.error.code;
    return error;
  }
  function clock(iso) {
    if (!iso) return "";
    try {
      return new Intl.DateTimeFormat(lang(), { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
    } catch (error) {
      return "";
    }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "r" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // --- the panel's DOM -----------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) {
      if (name === "className") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    }
    if (text != null) node.textContent = text;
    return node;
  }
  var SEND_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3 20.5 21 12 3 3.5 3 10l12 2-12 2z"/></svg>';
  var CLIP_ICON =
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z"/></svg>';

  var style = el("style");
  style.textContent = PANEL_CSS;
  var panel = el("div", { className: "panel " + config.position, role: "dialog", "data-testid": "panel", "aria-labelledby": "cw-title" });
  panel.hidden = true;
  panel.style.setProperty("--brand", config.color);
  panel.style.setProperty("--on-brand", config.onColor);
  var head = el("div", { className: "head" });
  var title = el("h2", { id: "cw-title" });
  var endButton = el("button", { type: "button", "data-testid": "end" });
  var closeButton = el("button", { type: "button", className: "close", "data-testid": "close" }, "×");
  head.append(title, endButton, closeButton);
  var status = el("p", { className: "status", role: "status", "data-testid": "connection" });
  status.hidden = true;
  var body = el("div", { className: "body" });

  var form = el("form", { className: "prechat", "data-testid": "prechat", novalidate: "" });
  var intro = el("p");
  function field(name, type, autocomplete, parent) {
    var label = el("label");
    var caption = el("span");
    var input = el(type === "select" ? "select" : "input", { name: name, "data-testid": "field-" + name });
    if (type !== "select") input.type = type;
    if (type === "email" || type === "tel") input.dir = "ltr"; // addresses and numbers read left to right in any script
    if (autocomplete) input.autocomplete = autocomplete;
    label.append(caption, input);
    (parent || form).append(label);
    return { label: label, caption: caption, input: input };
  }
  form.append(intro);
  var nameField = field("name", "text", "name");
  var emailField = field("email", "email", "email");
  var phoneField = field("phone", "tel", "tel");
  var subjectField = field("subject", "select");
  subjectField.label.hidden = true;
  var formError = el("p", { className: "error", role: "alert", "data-testid": "form-error" });
  var startButton = el("button", { type: "submit", className: "primary", "data-testid": "start" });
  form.append(formError, startButton);

  var log = el("div", { className: "log", role: "log", "aria-live": "polite", "data-testid": "log" });
  var cbView = el("div", { className: "callback", "data-testid": "callback" });
  body.append(form, log); // cbView goes in between while it is shown (layout())
  var typing = el("p", { className: "typing", "aria-live": "polite", "data-testid": "typing" });
  var ended = el("div", { className: "ended", "data-testid": "ended" });
  var download = el("a", { "data-testid": "download", target: "_blank", rel: "noopener" });
  var emailMe = el("button", { type: "button", className: "secondary", "data-testid": "email-transcript" });
  var emailResult = el("p", { role: "status", "data-testid": "email-result" });
  var newChat = el("button", { type: "button", className: "primary", "data-testid": "new-chat" });
  ended.append(download, emailMe, emailResult, newChat);
  var composer = el("form", { className: "composer", "data-testid": "composer-form" });
  var attachButton = el("button", { type: "button", className: "icon", "data-testid": "attach" });
  attachButton.innerHTML = CLIP_ICON;
  var fileInput = el("input", { type: "file", hidden: "", "data-testid": "file", multiple: "", tabindex: "-1" });
  fileInput.accept = SETTINGS.attachments.types.join(",");
  var textarea = el("textarea", { rows: "1", "data-testid": "composer", maxlength: "10000" });
  var sendButton = el("button", { type: "submit", className: "icon send", "data-testid": "send" });
  sendButton.innerHTML = SEND_ICON;
  composer.append(attachButton, fileInput, textarea, sendButton);
  var uploadError = el("p", { className: "error", role: "alert", "data-testid": "upload-error" });
  uploadError.style.padding = "0 12px 8px";
  panel.append(head, status, body, typing, ended, uploadError, composer);
  root.append(style, panel);

  // --- what is shown -------------------------------------------------------------------------

  var isOpen = false;
  var connected = false;
  var offline = !navigator.onLine;

  function labelEverything() {
    panel.setAttribute("dir", t("dir"));
    panel.setAttribute("lang", lang());
    title.textContent = config.title || t("title");
    closeButton.setAttribute("aria-label", t("closeChat"));
    endButton.textContent = t("end");
    intro.textContent = t("formIntro");
    nameField.caption.textContent = t("name");
    emailField.caption.textContent = t("email");
    phoneField.caption.textContent = t("phone");
    subjectField.caption.textContent = t("subject");
    startButton.textContent = t("start");
    download.textContent = t("download");
    emailMe.textContent = t("emailMe");
    newChat.textContent = t("newChat");
    attachButton.setAttribute("aria-label", t("attach"));
    attachButton.title = t("attach");
    textarea.setAttribute("aria-label", t("message"));
    textarea.placeholder = t("messagePlaceholder");
    sendButton.setAttribute("aria-label", t("send"));
    labelCallback();
    labelLauncher();
  }

  function labelLauncher() {
    var label = isOpen ? t("closeChat") : config.title || t("openChat");
    if (state.unread) label += " (" + t("unread", { count: state.unread }) + ")";
    ctx.launcher.setAttribute("aria-label", label);
    ctx.launcher.classList.toggle("open", isOpen);
  }

  function layout() {
    var chatting = Boolean(state.conversationId);
    form.hidden = chatting || cbShown;
    log.hidden = !chatting || cbShown;
    if (cbShown) body.insertBefore(cbView, log);
    else cbView.remove(); // out of the page while not shown: one "Your name" field at a time
    endButton.hidden = !chatting || state.ended;
    composer.hidden = !chatting || state.ended || cbShown;
    typing.hidden = !chatting || state.ended || cbShown;
    ended.hidden = !state.ended || cbShown;
    emailMe.hidden = !state.email;
    if (state.ended && state.conversationId) {
      download.href = server + "/api/customer/transcript/" + encodeURIComponent(state.conversationId) + "/pdf";
    }
    if (!chatting) uploadError.textContent = "";
    showStatus();
  }

  function showStatus() {
    var text = "";
    if (state.conversationId && !state.ended) {
      if (offline) text = t("offline");
      else if (!connected) text = t("reconnecting");
    }
    status.textContent = text;
    status.hidden = !text;
  }

  // --- messages ------------------------------------------------------------------------------

  var shown = {}; // message id, or "r:" + requestId for one not yet acked -> element

  function activityText(m) {
    var who = (m.info && m.info.participant && m.info.participant.name) || t("agent");
    switch (m.activityType) {
      case "greetings": return (m.info && m.info.text) || t("greeting");
      case "handOff": return t("handOff");
      case "noAgentAvailable": return t("noAgent");
      case "outsideBusinessHours": return t("closedNow") + " " + opensText(m.info && m.info.nextOpening, m.info && m.info.hours);
      case "callbackState": return callbackText(m.info || {}, true);
      case "participantJoined": return m.info && m.info.participant && m.info.participant.role === "customer" ? "" : t("joined", { name: who });
      case "participantLeft": return t("left", { name: who });
      case "endOfConversation":
        var by = m.info && m.info.endedBy;
        if (m.info && m.info.reason === "noAgentAvailable") return t("endedNoAgent");
        return by && by.role !== "customer" && by.name ? t("endedBy", { name: by.name }) : t("ended");
    }
    return "";
  }

  function isMine(m) {
    return m.from && (m.from.id === state.me || (m.from.role === "customer" && m.pending));
  }

  function tickOf(m) {
    if (m.failed) return ["failed", t("failed")];
    if (m.pending) return ["sending", t("sending")];
    if (m.sequence && m.sequence <= state.agentRead) return ["read", t("read")];
    return ["sent", t("sent")];
  }

  function render(m) {
    if (m.type === "ActivityMessage") {
      var text = activityText(m);
      if (!text) return null;
      var line = el("div", { className: "activity", "data-testid": "activity", "data-activity-type": m.activityType }, text);
      if (m.activityType === "outsideBusinessHours" || m.activityType === "noAgentAvailable") {
        var ask = el("button", { type: "button", className: "secondary", "data-testid": "offer-callback" }, t("askCallback"));
        ask.addEventListener("click", function () { showCallbackView(m.activityType === "noAgentAvailable" ? null : m.info); });
        line.append(el("br"), ask);
      }
      return line;
    }
    var mine = isMine(m);
    var bubble = el("div", { className: "msg" + (mine ? " mine" : ""), "data-testid": "message", "data-role": mine ? "me" : m.from.role });
    var meta = el("div", { className: "meta" });
    meta.append(el("span", null, mine ? t("you") : m.from.name || t("agent")), el("time", { datetime: m.timestamp || "" }, clock(m.timestamp)));
    bubble.append(meta);
    if (m.text) bubble.append(el("div", { className: "text" }, m.text));
    (m.attachments || []).forEach(function (a) {
      if (!/^https?:\/\//i.test(a.contentUrl || "")) return;
      var link = el("a", { href: a.contentUrl, target: "_blank", rel: "noopener noreferrer", "data-testid": "attachment" });
      if (a.thumbnailUrl && a.thumbnailUrl.indexOf(server + "/widget/files/") === 0 && /^image\//.test(a.type || "")) {
        var image = el("img", { src: a.thumbnailUrl, alt: t("image", { name: a.name || "" }) });
        image.addEventListener("load", keepAtBottom);
        link.append(image);
      } else {
        link.textContent = a.name || a.contentUrl;
        link.setAttribute("download", a.name || "");
      }
      bubble.append(link);
    });
    if (mine) {
      var tick = tickOf(m);
      bubble.append(el("span", { className: "tick", "data-testid": "tick", "data-state": tick[0] }, tick[1]));
    }
    bubble.dataset.sequence = m.sequence || "";
    return bubble;
  }

  function place(node, m) {
    if (!node) return;
    node.dataset.sequence = m.sequence || "";
    var later = null;
    if (m.sequence) {
      var nodes = log.children;
      for (var i = 0; i < nodes.length; i++) {
        var seq = Number(nodes[i].dataset.sequence);
        if (!seq || seq > m.sequence) { later = nodes[i]; break; }
      }
    }
    log.insertBefore(node, later);
    body.scrollTop = body.scrollHeight;
  }

  // A thumbnail that has just loaded grows its bubble: stay at the newest message.
  function keepAtBottom(event) {
    var bubble = event.target.closest(".msg");
    if (body.scrollHeight - body.scrollTop - body.clientHeight <= bubble.offsetHeight + 40) body.scrollTop = body.scrollHeight;
  }

  function publicShape(m) {
    return {
      id: m.id || null, sequence: m.sequence || null, type: m.type, activityType: m.activityType || null,
      text: m.text || "", attachments: m.attachments || [], from: m.from ? { name: m.from.name, role: m.from.role } : null,
      role: m.from ? m.from.role : null, mine: Boolean(isMine(m)), timestamp: m.timestamp || null,
    };
  }

  var announced = {}; // the `message` event fires once per message and page
  function show(m, key) {
    var node = render(m);
    shown[key] = node || true;
    place(node, m);
    var id = m.id || "r:" + m.requestId;
    if (node && !announced[id] && !m.pending) {
      announced[id] = true;
      emit("message", publicShape(m));
    }
  }

  function keep(m) {
    state.messages.push(m);
    state.messages.sort(function (a, b) { return (a.sequence || Infinity) - (b.sequence || Infinity); });
  }

  function redrawAll() {
    log.replaceChildren();
    shown = {};
    state.messages.forEach(function (m) { show(m, m.id || "r:" + m.requestId); });
  }

  function refreshTicks() {
    state.messages.forEach(function (m) {
      var node = shown[m.id || "r:" + m.requestId];
      if (!node || node === true || !isMine(m)) return;
      var tick = node.querySelector(".tick");
      var now = tickOf(m);
      if (tick && tick.dataset.state !== now[0]) {
        tick.dataset.state = now[0];
        tick.textContent = now[1];
      }
    });
  }

  // A message from the server, from history or live: shown once, whatever the way it came.
  function accept(m, live) {
    if (m.sequence > state.lastSequence) state.lastSequence = m.sequence;
    if (m.type === "ActivityMessage" && m.activityType === "typing") {
      if (live && m.from && m.from.id !== state.me) showTyping(m.from);
      return;
    }
    if (m.type === "ActivityMessage" && m.activityType === "read") {
      if (m.from && m.from.role !== "customer" && m.info && m.info.sequence > state.agentRead) {
        state.agentRead = m.info.sequence;
        refreshTicks();
      }
      save();
      return;
    }
    if (shown[m.id]) return save();
    var own = m.requestId && shown["r:" + m.requestId];
    if (own && m.from && m.from.id === state.me) return acked(m.requestId, m);
    if (m.type === "ActivityMessage" && SHOWN_ACTIVITIES.indexOf(m.activityType) < 0) return save();
    if (m.requestId && m.from && m.from.id === state.me) {
      state.pending = state.pending.filter(function (p) { return p.requestId !== m.requestId; });
    }
    keep(m);
    show(m, m.id);
    if (m.type === "ChatMessage" && typing.dataset.from === m.from.id) hideTyping();
    if (live && m.type === "ChatMessage" && m.from.id !== state.me && (!isOpen || document.hidden)) {
      setUnread(state.unread + 1);
      beep();
    }
    if (m.activityType === "endOfConversation") conversationOver();
    if (m.activityType === "callbackState") callbackChanged(m.info || {});
    if (m.activityType === "outsideBusinessHours" && live && !openCallback()) showCallbackView(m.info);
    save();
    sendRead();
  }

  // --- typing ----------------------------------------------------------------------------------

  var typingTimer = null;
  function showTyping(from) {
    typing.textContent = t("typing", { name: from.name || t("agent") });
    typing.dataset.from = from.id;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
  }
  function hideTyping() {
    clearTimeout(typingTimer);
    typing.textContent = "";
    delete typing.dataset.from;
  }
  var typingSentAt = 0;
  textarea.addEventListener("input", function () {
    if (!textarea.value || !connected || Date.now() - typingSentAt < TYPING_SENT_EVERY_MS) return;
    typingSentAt = Date.now();
    socket.emit("sendMessage", { conversationId: state.conversationId, type: "ActivityMessage", activityType: "typing" });
  });

  // --- unread badge, title flash, sound --------------------------------------------------------

  var baseTitle = null;
  var flashTimer = null;
  function setUnread(count) {
    state.unread = count;
    ctx.badge.textContent = count > 99 ? "99+" : String(count);
    ctx.badge.hidden = !count;
    labelLauncher();
    clearInterval(flashTimer);
    flashTimer = null;
    if (baseTitle !== null) document.title = baseTitle;
    if (count) {
      baseTitle = document.title;
      var flip = false;
      flashTimer = setInterval(function () {
        flip = !flip;
        document.title = flip ? "(" + count + ") " + t("newMessage") : baseTitle;
      }, 1000);
    } else {
      baseTitle = null;
    }
    emit("unread", { count: count });
  }
  function beep() {
    if (!config.sound || !window.AudioContext) return;
    try {
      var audio = new AudioContext();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      gain.gain.value = 0.05;
      tone.frequency.value = 880;
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.15);
    } catch (error) { /* no sound then */ }
  }
  function seen() {
    if (isOpen && !document.hidden && state.unread) setUnread(0);
    sendRead();
  }
  document.addEventListener("visibilitychange", seen);

  // --- read receipts ---------------------------------------------------------------------------

  function sendRead() {
    if (!isOpen || document.hidden || !connected || state.ended || !state.conversationId) return;
    var last = 0;
    state.messages.forEach(function (m) {
      if (m.type === "ChatMessage" && m.from && m.from.id !== state.me && m.from.role !== "customer" && m.sequence > last) last = m.sequence;
    });
    if (last <= state.readSent) return;
    var conversationId = state.conversationId;
    socket.timeout(ACK_TIMEOUT_MS).emit(
      "sendMessage",
      { conversationId: conversationId, type: "ActivityMessage", activityType: "read", info: { sequence: last }, requestId: "read-" + last },
      function (timedOut, ack) {
        if (!timedOut && ack && ack.ok && conversationId === state.conversationId && last > state.readSent) {
          state.readSent = last;
          save();
        }
      }
    );
  }

  // --- the connection --------------------------------------------------------------------------

  var socket = null;
  function connect() {
    if (socket) return;
    socket = io(server, { transports: ["websocket", "polling"], reconnectionDelay: 500, reconnectionDelayMax: 4000, autoConnect: false });
    socket.on("connect", join);
    socket.on("disconnect", function () {
      connected = false;
      showStatus();
    });
    socket.on("conversationInfo", function (info) {
      if (!info.conversation || info.conversation.id !== state.conversationId) return;
      state.me = info.me.id;
      info.messages.forEach(function (m) { accept(m, true); });
      if (info.conversation.state !== "open") conversationOver();
      if (info.hasMore) join(); // a full page: the rest follows the next join
    });
    socket.on("messageArrived", function (m) {
      if (m.conversationId === state.conversationId) accept(m, true);
    });
    if (!offline) socket.connect();
  }

  function join() {
    if (!state.conversationId) return;
    var request = { conversationId: state.conversationId, participant: { id: state.key } };
    if (state.lastSequence) request.lastSequence = state.lastSequence;
    socket.timeout(ACK_TIMEOUT_MS).emit("joinConversation", request, function (timedOut, ack) {
      if (timedOut) return socket.connected && join();
      if (!ack.ok) {
        var code = ack.error && ack.error.code;
        if (code === "CONVERSATION_ENDED") return conversationOver();
        if (code === "CONVERSATION_NOT_FOUND" || code === "NOT_A_PARTICIPANT") return startAfresh();
        return;
      }
      state.me = ack.participant.id;
      connected = true;
      showStatus();
      save();
      state.pending.forEach(transmit);
      sendRead();
    });
  }

  window.addEventListener("offline", function () {
    offline = true;
    if (socket) socket.disconnect();
    connected = false;
    showStatus();
  });
  window.addEventListener("online", function () {
    offline = false;
    if (socket) socket.connect();
    showStatus();
  });

  // --- sending ---------------------------------------------------------------------------------

  var inFlight = {};
  function transmit(p) {
    if (!connected || inFlight[p.requestId]) return;
    inFlight[p.requestId] = true;
    var payload = { conversationId: state.conversationId, type: "ChatMessage", text: p.text, attachments: p.attachments, requestId: p.requestId, timestamp: p.timestamp };
    socket.timeout(ACK_TIMEOUT_MS).emit("sendMessage", payload, function (timedOut, ack) {
      delete inFlight[p.requestId];
      if (timedOut) return; // stays pending: sent again, with the same requestId, on the next join
      if (ack.ok) return acked(p.requestId, { id: ack.id, sequence: ack.sequence, timestamp: ack.timestamp });
      failed(p.requestId, ack.error);
    });
  }

  function acked(requestId, stored) {
    state.pending = state.pending.filter(function (p) { return p.requestId !== requestId; });
    var m = state.messages.filter(function (x) { return x.requestId === requestId && !x.id; })[0];
    if (m) {
      m.id = stored.id;
      m.sequence = stored.sequence;
      m.timestamp = stored.timestamp || m.timestamp;
      m.from = { id: state.me, name: m.from.name, role: "customer" };
      delete m.pending;
      var node = shown["r:" + requestId];
      delete shown["r:" + requestId];
      if (node && node !== true) node.remove();
      state.messages = state.messages.filter(function (x) { return x !== m; });
      keep(m);
      show(m, m.id);
    }
    save();
  }

  function failed(requestId, error) {
    state.pending = state.pending.filter(function (p) { return p.requestId !== requestId; });
    state.messages.forEach(function (m) {
      if (m.requestId === requestId && !m.id) {
        m.failed = true;
        delete m.pending;
      }
    });
    refreshTicks();
    uploadError.textContent = t("error", { reason: reason(error) });
    if (error && error.code === "CONVERSATION_ENDED") conversationOver();
    save();
  }

  function send(text, attachments) {
    text = String(text || "").trim();
    if ((!text && !(attachments && attachments.length)) || !state.conversationId || state.ended) return false;
    var p = { requestId: uuid(), text: text, attachments: attachments || [], timestamp: new Date().toISOString() };
    var m = { requestId: p.requestId, type: "ChatMessage", text: p.text, attachments: p.attachments, timestamp: p.timestamp, pending: true, from: { id: state.me, name: "", role: "customer" } };
    state.pending.push(p);
    state.messages.push(m);
    show(m, "r:" + p.requestId);
    save();
    transmit(p);
    return true;
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    if (send(textarea.value)) textarea.value = "";
    textarea.focus();
  });
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  // --- attachments -----------------------------------------------------------------------------

  function humanSize(bytes) {
    return bytes >= 1e6 ? bytes / 1e6 + " MB" : bytes / 1e3 + " KB";
  }
  function upload(file) {
    var limits = SETTINGS.attachments;
    if (file.size > limits.maxBytes) return (uploadError.textContent = t("tooLarge", { name: file.name, max: humanSize(limits.maxBytes) }));
    if (limits.types.indexOf(file.type) < 0) {
      var kinds = limits.types.map(function (type) { return type.split("/")[1].toUpperCase(); }).join(", ");
      return (uploadError.textContent = t("wrongType", { name: file.name, types: kinds }));
    }
    uploadError.textContent = "";
    var data = new FormData();
    data.append("conversationId", state.conversationId);
    data.append("participantId", state.key);
    data.append("file", file, file.name);
    fetch(server + "/api/customer/attachments", { method: "POST", body: data })
      .then(function (response) {
        return response.json().then(function (json) {
          if (!response.ok) throw failure(response, json);
          send("", [json]);
        });
      })
      .catch(function (error) {
        uploadError.textContent = t("uploadFailed", { name: file.name, reason: reason(error) });
      });
  }
  attachButton.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    Array.prototype.forEach.call(fileInput.files, upload);
    fileInput.value = "";
  });
  panel.addEventListener("dragover", function (event) {
    if (!state.conversationId || state.ended) return;
    event.preventDefault();
    panel.classList.add("dropping");
  });
  panel.addEventListener("dragleave", function () { panel.classList.remove("dropping"); });
  panel.addEventListener("drop", function (event) {
    panel.classList.remove("dropping");
    if (!state.conversationId || state.ended) return;
    event.preventDefault();
    Array.prototype.forEach.call(event.dataTransfer.files, upload);
  });

  // --- starting and ending ---------------------------------------------------------------------

  var queuesLoaded = false;
  function loadQueues() {
    if (queuesLoaded) return;
    queuesLoaded = true;
    fetch(server + "/api/customer/queues")
      .then(function (response) { return response.ok ? response.json() : { queues: [] }; })
      .then(function (json) {
        var select = subjectField.input;
        select.replaceChildren();
        json.queues.forEach(function (q) {
          var option = el("option", { value: q.name }, q.description ? q.name + " – " + q.description : q.name);
          if (q.name === config.subject || (!config.subject && q.isDefault)) option.selected = true;
          select.append(option);
        });
        subjectField.label.hidden = json.queues.length < 2 || Boolean(config.subject);
        json.queues.forEach(function (q) { queues[q.name] = q; });
        checkHours();
      })
      .catch(function () { queuesLoaded = false; });
  }

  function start(user) {
    formError.textContent = "";
    startButton.disabled = true;
    startButton.textContent = t("starting");
    state.startRequestId = state.startRequestId || uuid();
    var payload = {
      channel: "web", language: lang(), subject: subjectField.input.value || config.subject, url: location.href.slice(0, 2000),
      requestId: state.startRequestId, firstName: user.firstName || "", lastName: user.lastName || "",
      email: user.email || "", phone: user.phone || "", refId: user.refId || "", identityHash: user.identityHash || "",
    };
    fetch(server + "/api/customer/init", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) })
      .then(function (response) {
        return response.json().then(function (json) {
          if (!response.ok) throw failure(response, json);
          return json;
        });
      })
      .then(function (json) {
        state.conversationId = json.conversationId;
        state.key = json.participant.id;
        state.email = payload.email;
        state.startRequestId = null;
        save();
        layout();
        connect();
        emit("conversationStarted", { conversationId: json.conversationId });
        if (isOpen) textarea.focus();
        queued.splice(0).forEach(function (text) { send(text); });
      })
      .catch(function (error) {
        formError.textContent = t("error", { reason: reason(error) });
        form.hidden = false;
      })
      .then(function () {
        startButton.disabled = false;
        startButton.textContent = t("start");
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var name = nameField.input.value.trim();
    var email = emailField.input.value.trim();
    var phone = phoneField.input.value.trim();
    var problem = !name ? ["needName", nameField] : !email && !phone ? ["needContact", emailField] : email && !emailField.input.checkValidity() ? ["badEmail", emailField] : null;
    [nameField, emailField].forEach(function (f) { f.input.removeAttribute("aria-invalid"); });
    if (problem) {
      formError.textContent = t(problem[0]);
      problem[1].input.setAttribute("aria-invalid", "true");
      problem[1].input.focus();
      return;
    }
    var parts = name.split(/\s+/);
    start({ firstName: parts[0], lastName: parts.slice(1).join(" "), email: email, phone: phone });
  });

  var announcedEnd = null;
  function conversationOver() {
    if (!state.ended) {
      state.ended = true;
      state.pending = [];
      save();
    }
    hideTyping();
    layout();
    if (announcedEnd !== state.conversationId) {
      announcedEnd = state.conversationId;
      emit("conversationEnded", { conversationId: state.conversationId });
    }
  }

  var confirming = null;
  endButton.addEventListener("click", function () {
    if (!confirming) {
      endButton.textContent = t("endConfirm");
      confirming = setTimeout(function () {
        confirming = null;
        endButton.textContent = t("end");
      }, 4000);
      return;
    }
    clearTimeout(confirming);
    confirming = null;
    endButton.textContent = t("end");
    if (!connected) return;
    socket.timeout(ACK_TIMEOUT_MS).emit("endConversation", { conversationId: state.conversationId }, function (timedOut, ack) {
      if (!timedOut && (ack.ok || (ack.error && ack.error.code === "CONVERSATION_ENDED"))) conversationOver();
    });
  });

  emailMe.addEventListener("click", function () {
    emailMe.disabled = true;
    fetch(server + "/api/customer/transcript/" + encodeURIComponent(state.conversationId) + "/email")
      .then(function (response) {
        emailResult.textContent = response.ok ? t("emailSent", { email: state.email }) : t("emailFailed");
      })
      .catch(function () { emailResult.textContent = t("emailFailed"); })
      .then(function () { emailMe.disabled = false; });
  });

  function startAfresh() {
    if (socket) {
      socket.disconnect();
      socket = null;
    }
    connected = false;
    var language = state.language;
    var callback = state.callback;
    state = fresh();
    state.language = language;
    state.callback = callback;
    cbShown = false;
    save();
    setUnread(0);
    emailResult.textContent = "";
    redrawAll();
    layout();
    if (isOpen) begin();
  }
  newChat.addEventListener("click", startAfresh);

  // A second tab of the same site writes the same key: take what it learned.
  window.addEventListener("storage", function (event) {
    if (event.key !== config.storeKey) return;
    var theirs = loadState(event.newValue); // what the other tab wrote, whatever was written since
    if (JSON.stringify(theirs.callback) !== JSON.stringify(state.callback)) {
      state.callback = theirs.callback; // asked for, or cancelled, in the other tab
      drawCallback();
    }
    if (theirs.conversationId !== state.conversationId) {
      if (socket) socket.disconnect();
      socket = null;
      connected = false;
      state = theirs;
      redrawAll();
      layout();
      if (state.conversationId && !state.ended) connect();
      return;
    }
    theirs.messages.forEach(function (m) {
      if (m.id && !shown[m.id]) accept(m, false);
    });
    // The other tab's unsent messages are this tab's to send too (the server stores a requestId
    // once): that tab may be closed before the network is back.
    theirs.pending.forEach(function (p) {
      if (shown["r:" + p.requestId] || state.messages.some(function (m) { return m.requestId === p.requestId; })) return;
      var m = theirs.messages.filter(function (x) { return x.requestId === p.requestId && !x.id; })[0];
      if (!m) return;
      state.pending.push(p);
      state.messages.push(m);
      show(m, "r:" + p.requestId);
      transmit(p);
      save();
    });
    if (theirs.agentRead > state.agentRead) {
      state.agentRead = theirs.agentRead;
      refreshTicks();
    }
    if (theirs.ended && !state.ended) conversationOver();
  });

  // --- opening and closing ---------------------------------------------------------------------

  var pageOverflow = null;
  function lockPage(lock) {
    var html = document.documentElement;
    if (lock && pageOverflow === null) {
      pageOverflow = [html.style.overflow, document.body.style.overflow];
      html.style.overflow = "hidden";
      document.body.style.overflow = "hidden";
    } else if (!lock && pageOverflow !== null) {
      html.style.overflow = pageOverflow[0];
      document.body.style.overflow = pageOverflow[1];
      pageOverflow = null;
    }
  }
  var phone = window.matchMedia("(max-width: 480px)");
  function fitScreen() {
    lockPage(isOpen && phone.matches);
    if (phone.matches) panel.setAttribute("aria-modal", "true");
    else panel.removeAttribute("aria-modal");
    ctx.launcher.style.display = isOpen && phone.matches ? "none" : "";
  }
  if (phone.addEventListener) phone.addEventListener("change", fitScreen);

  function begin() {
    if (state.conversationId) return;
    if (config.user) {
      form.hidden = true;
      return start(config.user);
    }
    loadQueues();
    checkHours();
  }

  function open() {
    if (!isOpen) {
      isOpen = true;
      panel.hidden = false;
      ctx.launcher.setAttribute("aria-expanded", "true");
      labelLauncher();
      fitScreen();
      layout();
      begin();
      emit("open", {});
    }
    var target = cbShown ? cbFocus() : state.conversationId ? (state.ended ? newChat : textarea) : nameField.input;
    setTimeout(function () { (form.hidden && !state.conversationId ? closeButton : target).focus(); });
    body.scrollTop = body.scrollHeight;
    seen();
  }
  function close() {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    ctx.launcher.setAttribute("aria-expanded", "false");
    labelLauncher();
    fitScreen();
    ctx.launcher.focus();
    emit("close", {});
  }
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
    if (event.key === "Tab" && phone.matches) {
      var stops = Array.prototype.filter.call(panel.querySelectorAll("button, a[href], input, select, textarea"), function (node) {
        return !node.disabled && node.tabIndex >= 0 && node.getClientRects().length;
      });
      var first = stops[0];
      var last = stops[stops.length - 1];
      var here = root.activeElement;
      if (event.shiftKey && here === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && here === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });

  var queued = []; // sendMessage() before a conversation exists: sent once it does
  function sendMessage(text) {
    if (state.conversationId && !state.ended) return send(text);
    queued.push(text);
    if (!state.conversationId && config.user) begin();
    else open();
  }

  // --- business hours and callbacks (docs/widget.md#business-hours-and-callbacks) ------------

  var OPEN_STATES = ["requested", "scheduled", "offered", "inProgress", "retryScheduled", "expired"];
  var visitorZone = "";
  try { visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { /* none */ }
  var queues = {}; // name -> the queue from GET /api/customer/queues
  var closedInfo = null; // {queue, nextOpening, hours} while the chosen queue is closed
  var cbShown = false; // the callback view stands in for the form or the chat
  var chatAnyway = false;
  var hoursOpen = false; // the week's hours folded out

  function when(iso, zone) {
    try {
      var options = { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
      if (zone) options.timeZone = zone;
      return new Intl.DateTimeFormat(lang(), options).format(new Date(iso));
    } catch (error) {
      return String(iso);
    }
  }
  function hhmm(ms, zone) {
    var options = { hour: "2-digit", minute: "2-digit" };
    if (zone) options.timeZone = zone;
    return new Intl.DateTimeFormat(lang(), options).format(new Date(ms));
  }
  // Minutes `zone` is ahead of UTC at the instant `ms`, and a wall time of `zone` as an instant.
  function zoneOffset(ms, zone) {
    var p = {};
    new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" })
      .formatToParts(new Date(ms))
      .forEach(function (x) { p[x.type] = Number(x.value); });
    return (Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute) - Math.floor(ms / 60000) * 60000) / 60000;
  }
  function wallTime(y, m, d, time, zone) {
    var hm = time.split(":");
    var guess = Date.UTC(y, m, d, Number(hm[0]), Number(hm[1]));
    return guess - zoneOffset(guess - zoneOffset(guess, zone) * 60000, zone) * 60000;
  }
  function localInput(ms) { // the value of an <input type=datetime-local> in the visitor's time
    var d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
    return d.toISOString().slice(0, 16);
  }
  function sameZone(zone) {
    var now = Date.now();
    try { return zoneOffset(now, zone) === -new Date(now).getTimezoneOffset(); } catch (error) { return true; }
  }
  function opensText(iso, hours) {
    if (!iso) return t("opensNever");
    var zone = hours && hours.timeZone;
    var text = t("opensAt", { time: when(iso) });
    return zone && !sameZone(zone) ? text + " " + t("theirTime", { time: when(iso, zone), zone: zone }) : text;
  }

  var hoursBox = el("div", { className: "hours", "data-testid": "hours" });
  var cbForm = el("form", { className: "prechat", "data-testid": "callback-form", novalidate: "" });
  var cbIntro = el("p");
  cbForm.append(cbIntro);
  var cbName = field("cb-name", "text", "given-name", cbForm);
  var cbPhone = field("cb-phone", "tel", "tel", cbForm);
  cbPhone.input.required = true;
  cbName.input.required = true;
  var cbWhen = el("fieldset", { className: "when" });
  var cbLegend = el("legend");
  function choice(value) {
    var label = el("label", { className: "choice" });
    var input = el("input", { type: "radio", name: "cb-when", value: value, "data-testid": "cb-" + value });
    var caption = el("span");
    label.append(input, caption);
    cbWhen.append(label);
    return { input: input, caption: caption };
  }
  cbWhen.append(cbLegend);
  var cbAsap = choice("asap");
  var cbLater = choice("later");
  cbAsap.input.checked = true;
  var cbTimes = el("div", { className: "times" });
  cbWhen.append(cbTimes);
  var cbStart = field("cb-start", "datetime-local", "", cbTimes);
  var cbEnd = field("cb-end", "datetime-local", "", cbTimes);
  cbForm.append(cbWhen);
  var cbComment = field("cb-comment", "text", "", cbForm);
  cbComment.input.maxLength = 2000;
  var cbError = el("p", { className: "error", role: "alert", id: "cw-cb-error", "data-testid": "callback-error" });
  var cbSubmit = el("button", { type: "submit", className: "primary", "data-testid": "callback-submit" });
  cbForm.append(cbError, cbSubmit);
  var cbResult = el("div", { className: "result", "data-testid": "callback-result" });
  var cbStatus = el("p", { role: "status", "aria-live": "polite", tabindex: "-1", "data-testid": "callback-status" });
  var cbNote = el("p", { className: "note", "data-testid": "callback-note" });
  var cbCancel = el("button", { type: "button", className: "secondary", "data-testid": "callback-cancel" });
  var cbAgain = el("button", { type: "button", className: "secondary", "data-testid": "callback-again" });
  cbResult.append(cbStatus, cbNote, cbCancel, cbAgain);
  var cbBack = el("button", { type: "button", className: "secondary", "data-testid": "callback-back" });
  cbView.append(hoursBox, cbForm, cbResult, cbBack);
  var FIELDS = { firstName: cbName, lastName: cbName, phone: cbPhone, "preferredTime.start": cbStart, "preferredTime.end": cbEnd, preferredTime: cbStart, comment: cbComment };

  function labelCallback() {
    cbIntro.textContent = t("callbackIntro");
    cbName.caption.textContent = t("name");
    cbPhone.caption.textContent = t("phoneRequired");
    cbLegend.textContent = t("when");
    cbAsap.caption.textContent = t("asap");
    cbLater.caption.textContent = t("later");
    cbStart.caption.textContent = t("from");
    cbEnd.caption.textContent = t("until");
    cbComment.caption.textContent = t("comment");
    cbSubmit.textContent = t("callMe");
    cbCancel.textContent = t("cancelCallback");
    cbAgain.textContent = t("anotherCallback");
    drawCallback();
  }

  function openCallback() {
    return state.callback && OPEN_STATES.indexOf(state.callback.state) >= 0 ? state.callback : null;
  }

  function drawHours() {
    hoursBox.replaceChildren();
    hoursBox.hidden = !closedInfo;
    if (!closedInfo) return;
    var hours = closedInfo.hours || {};
    var zone = hours.timeZone || "UTC";
    var both = !sameZone(zone);
    hoursBox.append(el("p", { className: "closed" }, t("closedNow")), el("p", { "data-testid": "next-opening" }, opensText(closedInfo.nextOpening, hours)));
    if (hours.alwaysOpen || !hours.week) return;
    var more = el("details", { "data-testid": "hours-table" });
    more.open = hoursOpen;
    more.addEventListener("toggle", function () { hoursOpen = more.open; });
    more.append(el("summary", null, t("hoursIn", { zone: zone })));
    var table = el("table");
    var today = {};
    new Intl.DateTimeFormat("en-US", { timeZone: zone, year: "numeric", month: "numeric", day: "numeric" })
      .formatToParts(new Date())
      .forEach(function (x) { today[x.type] = Number(x.value); });
    var todayWeekday = (new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay() + 6) % 7; // Monday 0
    hours.week.forEach(function (day, weekday) {
      var d = today.day + ((weekday - todayWeekday + 7) % 7);
      var noon = wallTime(today.year, today.month - 1, d, "12:00", zone);
      var row = el("tr");
      row.append(el("th", { scope: "row" }, new Intl.DateTimeFormat(lang(), { weekday: "long", timeZone: zone }).format(new Date(noon))));
      var cell = el("td");
      if (!day.ranges.length) cell.textContent = t("closedDay");
      day.ranges.forEach(function (r) {
        var opens = wallTime(today.year, today.month - 1, d, r.opens, zone);
        var closes = wallTime(today.year, today.month - 1, d, r.closes, zone);
        var line = el("span", { className: "range" }, hhmm(opens, zone) + "–" + hhmm(closes, zone));
        cell.append(line);
        if (both) cell.append(el("span", { className: "local" }, t("yourTime", { time: new Intl.DateTimeFormat(lang(), { weekday: "short" }).format(new Date(opens)) + " " + hhmm(opens) + "–" + hhmm(closes) })));
      });
      row.append(cell);
      table.append(row);
    });
    more.append(table);
    if (hours.closedDates && hours.closedDates.length) more.append(el("p", null, t("closedOn", { dates: hours.closedDates.join(", ") })));
    hoursBox.append(more);
  }

  function callbackText(c, inChat) { // in the chat's log: without the phone, which it may not know
    var time = c.scheduledFor ? when(c.scheduledFor) : "";
    var phone = (state.callback && state.callback.phone) || "";
    switch (c.state) {
      case "inProgress": return inChat ? t("logCalling") : t("cbCalling", { phone: phone });
      case "retryScheduled": return t("cbRetry", { time: time });
      case "expired": return t("cbLate");
      case "completed": return t("cbDone");
      case "failed": return t("cbFailed");
      case "cancelled": return t("cbCancelled");
    }
    return inChat ? t("logScheduled", { time: time }) : t("cbScheduled", { time: time, phone: phone });
  }

  function drawCallback() {
    var c = state.callback;
    drawHours();
    cbForm.hidden = Boolean(c);
    cbResult.hidden = !c;
    cbBack.textContent = state.conversationId ? t("backToChat") : t("chatAnyway");
    if (!c) return;
    cbStatus.textContent = callbackText(c);
    cbStatus.dataset.state = c.state;
    cbStatus.dataset.scheduledFor = c.scheduledFor || "";
    cbNote.textContent = c.adjusted === "outsideHours" ? t("cbMovedHours") : c.adjusted === "slotFull" ? t("cbMovedFull") : "";
    cbNote.hidden = !cbNote.textContent;
    cbCancel.hidden = !c.key || !openCallback();
    cbAgain.hidden = Boolean(openCallback());
  }

  function showCallbackView(info) {
    if (info && info.hours) closedInfo = { queue: info.queue, nextOpening: info.nextOpening, hours: info.hours };
    else if (state.conversationId) closedInfo = null;
    cbShown = true;
    if (!cbName.input.value) cbName.input.value = nameField.input.value.trim().split(/\s+/)[0] || (config.user && config.user.firstName) || "";
    if (!cbPhone.input.value) cbPhone.input.value = phoneField.input.value.trim() || (config.user && config.user.phone) || "";
    drawCallback();
    layout();
    if (isOpen) setTimeout(function () { cbFocus().focus(); });
  }
  function cbFocus() {
    return state.callback ? cbStatus : cbName.input.value ? cbPhone.input : cbName.input;
  }

  // Before a chat: is the queue the visitor would chat with closed now?
  function checkHours() {
    if (state.conversationId) return;
    var q = queues[subjectField.input.value || config.subject];
    if (!q) for (var name in queues) if (queues[name].isDefault && !config.subject) q = queues[name];
    closedInfo = q && !q.openNow ? { queue: q.name, nextOpening: q.nextOpening, hours: q.hours } : null;
    if ((closedInfo || openCallback()) && !chatAnyway) showCallbackView(closedInfo);
    else {
      cbShown = false;
      layout();
    }
  }
  subjectField.input.addEventListener("change", checkHours);

  cbBack.addEventListener("click", function () {
    cbShown = false;
    chatAnyway = true;
    layout();
    (state.conversationId ? textarea : nameField.input).focus();
  });
  cbAgain.addEventListener("click", function () {
    state.callback = null;
    save();
    drawCallback();
    cbFocus().focus();
  });
  cbLater.input.addEventListener("change", drawTimes);
  cbAsap.input.addEventListener("change", drawTimes);
  function drawTimes() {
    cbTimes.hidden = !cbLater.input.checked;
  }
  drawTimes();

  function cbProblem(f, text) {
    cbError.textContent = text;
    f.input.setAttribute("aria-invalid", "true");
    f.input.setAttribute("aria-describedby", "cw-cb-error");
    f.input.focus();
  }

  function keepCallback(json) {
    state.callback = {
      id: json.callbackId, key: json.key === undefined && state.callback ? state.callback.key : json.key,
      state: json.state, scheduledFor: json.scheduledFor, adjusted: json.adjusted, phone: json.phone,
    };
    save();
    drawCallback();
  }

  function submitCallback() {
    [cbName, cbPhone, cbStart, cbEnd, cbComment].forEach(function (f) { f.input.removeAttribute("aria-invalid"); });
    cbError.textContent = "";
    var name = cbName.input.value.trim();
    var phone = cbPhone.input.value.trim();
    if (!name) return cbProblem(cbName, t("needName"));
    if (!phone) return cbProblem(cbPhone, t("needPhone"));
    var preferred = "asap";
    if (cbLater.input.checked) {
      var start = cbStart.input.value;
      if (!start) return cbProblem(cbStart, t("needStart"));
      var end = cbEnd.input.value || localInput(new Date(start).getTime() + 3600000);
      preferred = { start: start, end: end, timeZone: visitorZone || undefined };
    }
    state.callbackRequestId = state.callbackRequestId || uuid();
    save();
    var parts = name.split(/\s+/);
    var payload = {
      firstName: parts[0], lastName: parts.slice(1).join(" "), phone: phone, email: emailField.input.value.trim() || (config.user && config.user.email) || "",
      subject: (closedInfo && closedInfo.queue) || subjectField.input.value || config.subject || "", language: lang(),
      comment: cbComment.input.value.trim(), preferredTime: preferred, requestId: state.callbackRequestId,
    };
    if (state.conversationId && !state.ended) payload.conversationId = state.conversationId;
    if (emailField.input.value && !emailField.input.checkValidity()) payload.email = "";
    cbSubmit.disabled = true;
    fetch(server + "/api/customer/callback", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) })
      .then(function (response) {
        return response.json().then(function (json) {
          if (response.ok) {
            state.callbackRequestId = null;
            keepCallback(json);
            emit("callbackRequested", { callbackId: json.callbackId, state: json.state, scheduledFor: json.scheduledFor, conversationId: payload.conversationId || null });
            cbStatus.focus();
            return;
          }
          var error = json.error || {};
          if (error.code === "REQUEST_ID_CONFLICT") {
            state.callbackRequestId = null; // the details changed since that request was stored: a new one
            return submitCallback();
          }
          if (response.status === 429) return cbProblem(cbPhone, t("tooMany"));
          if (error.code === "SLOT_FULL") {
            cbLater.input.checked = true;
            drawTimes();
            if (error.nextFreeSlot) {
              var free = new Date(error.nextFreeSlot).getTime();
              cbStart.input.value = localInput(free);
              cbEnd.input.value = localInput(free + 1800000);
              return cbProblem(cbStart, t("slotFull", { time: when(error.nextFreeSlot) }));
            }
            return cbProblem(cbStart, t("slotNone"));
          }
          var fields = error.fields || {};
          for (var key in fields) {
            var f = FIELDS[key];
            if (f) return cbProblem(f, f.caption.textContent + ": " + fields[key]);
          }
          cbError.textContent = t("error", { reason: error.message || response.statusText });
        });
      })
      .catch(function (error) { cbError.textContent = t("error", { reason: error.message }); })
      .then(function () { cbSubmit.disabled = false; });
  }
  cbForm.addEventListener("submit", function (event) {
    event.preventDefault();
    submitCallback();
  });

  function callbackRequest(method) {
    var c = state.callback;
    return fetch(server + "/api/customer/callback/" + encodeURIComponent(c.id), { method: method, headers: { "X-Callback-Key": c.key } }).then(function (response) {
      return response.json().then(function (json) {
        if (response.ok) return keepCallback(json);
        if (response.status === 404) {
          state.callback = null; // the key no longer opens it
          save();
          drawCallback();
        }
        if (response.status === 409) return callbackRequest("GET");
      });
    });
  }
  function refreshCallback() {
    if (state.callback && state.callback.key && openCallback()) callbackRequest("GET").catch(function () { /* shown as saved */ });
  }
  cbCancel.addEventListener("click", function () {
    cbCancel.disabled = true;
    callbackRequest("DELETE")
      .catch(function (error) { cbNote.hidden = false; cbNote.textContent = t("error", { reason: error.message }); })
      .then(function () {
        cbCancel.disabled = false;
        if (!cbAgain.hidden) cbStatus.focus();
      });
  });

  // A callbackState activity in the chat: an agent's, or the visitor's own from another tab.
  function callbackChanged(info) {
    if (!info.callbackId) return;
    var c = state.callback;
    if (!c || c.id !== info.callbackId) state.callback = c = { id: info.callbackId, key: null, phone: "" };
    c.state = info.state;
    c.scheduledFor = info.scheduledFor || c.scheduledFor;
    drawCallback();
  }

  // --- start -----------------------------------------------------------------------------------

  labelEverything();
  redrawAll();
  layout();
  setUnread(state.unread);
  if (state.conversationId && !state.ended) connect();
  refreshCallback();

  return {
    open: open,
    close: close,
    isOpen: function () { return isOpen; },
    sendMessage: sendMessage,
    setUser: function () { if (isOpen) begin(); },
    setLanguage: function (code) {
      config.language = code;
      state.language = code;
      save();
      labelEverything();
      redrawAll();
      drawCallback();
      layout();
    },
  };
});
