/* The chat widget's loader (/widget.js): the launcher, window.ChatWidget, and nothing else up
 * front. The panel (/widget/panel.js, with the socket.io client) is loaded when the visitor opens
 * the chat, or at once when this browser already has a conversation (to count unread messages).
 * Everything lives in a shadow root, so the host page's CSS does not reach in and ours not out.
 * Docs: docs/widget.md. No global but window.ChatWidget. */
(function () {
  "use strict";
  if (window.ChatWidget && window.ChatWidget.version) return; // the tag was included twice

  var script = document.currentScript;
  if (!script) {
    var tags = document.querySelectorAll("script[src*='/widget.js']");
    script = tags[tags.length - 1];
  }
  var data = script.dataset;
  var server = new URL(script.src, location.href).origin;
  var storeKey = "chatwidget:" + server;
  var COLOR = /^#[0-9a-f]{3}([0-9a-f]{3})?$/i;

  var config = {
    server: server,
    storeKey: storeKey,
    subject: data.subject || "",
    language: (data.language || document.documentElement.lang || navigator.language || "en").toLowerCase(),
    position: data.position === "left" ? "left" : "right",
    color: COLOR.test(data.color || "") ? data.color : "#1f5fbf",
    title: data.title || "",
    sound: data.sound === "on" || data.sound === "true",
    user: null,
  };

  var LAUNCHER_TEXT = __LAUNCHER_TEXT__; // the catalogue's "openChat" in each language

  // Text on the brand colour: white or near-black, whichever has the higher WCAG contrast.
  function luminance(hex) {
    if (hex.length === 4) hex = "#" + hex[1] + hex[1] + hex[2] + hex[2] + hex[3] + hex[3];
    var channels = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  }
  var light = luminance(config.color);
  config.onColor = (1.05 / (light + 0.05)) >= ((light + 0.05) / 0.0556) ? "#ffffff" : "#111111";

  var host = document.createElement("chat-widget");
  // Inline and !important: a host rule such as `* { display: none !important }` cannot hide it.
  host.setAttribute("style", "all: initial !important; display: block !important; position: static !important;");
  var root = host.attachShadow({ mode: "open" });
  var side = config.position === "left" ? "left" : "right";
  root.innerHTML =
    "<style>" +
    ":host{all:initial;font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1b1b1b}" +
    ".launcher{all:initial;box-sizing:border-box;position:fixed;bottom:20px;" + side + ":20px;width:56px;height:56px;" +
    "border-radius:50%;background:" + config.color + ";color:" + config.onColor + ";cursor:pointer;display:flex;" +
    "align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.3);z-index:2147483000}" +
    ".launcher:focus-visible{outline:3px solid #111;outline-offset:3px;box-shadow:0 0 0 6px #fff}" +
    ".launcher svg{width:28px;height:28px;fill:currentColor}.launcher .x,.launcher.open .bubble{display:none}.launcher.open .x{display:block}" +
    ".badge{all:initial;position:absolute;top:-4px;" + (side === "left" ? "right" : "left") + ":-4px;min-width:22px;height:22px;" +
    "padding:0 6px;box-sizing:border-box;border-radius:11px;background:#b00020;color:#fff;font:700 12px/22px system-ui,sans-serif;" +
    "text-align:center}.badge[hidden]{display:none}" +
    "</style>" +
    '<button class="launcher" type="button" part="launcher" data-testid="launcher" aria-expanded="false">' +
    '<svg class="bubble" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>' +
    '<svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z"/></svg>' +
    '<span class="badge" data-testid="badge" hidden></span></button>';
  var launcher = root.querySelector(".launcher");
  var badge = root.querySelector(".badge");
  function labelLauncher() {
    var lang = config.language.split("-")[0];
    launcher.setAttribute("aria-label", config.title || LAUNCHER_TEXT[lang] || LAUNCHER_TEXT.en);
  }
  labelLauncher();

  var handlers = {};
  var ready = false;
  // The messages shown so far: a handler added after the panel showed the history gets them too.
  var shownMessages = [];
  function emit(event, detail) {
    if (event === "message") shownMessages.push(detail);
    (handlers[event] || []).slice().forEach(function (handler) {
      try {
        handler(detail);
      } catch (error) {
        setTimeout(function () { throw error; });
      }
    });
  }

  var panel = null; // the panel's controller, once panel.js has run
  var queued = []; // calls made before it had
  var loading = false;
  function load() {
    if (loading) return;
    loading = true;
    var tag = document.createElement("script");
    tag.src = server + "/widget/panel.js?v=__PANEL_VERSION__";
    tag.async = true;
    tag.onerror = function () {
      loading = false;
    };
    document.head.appendChild(tag);
  }
  function withPanel(method, args) {
    if (panel) return panel[method].apply(null, args);
    queued.push([method, args]);
    load();
  }

  function hasConversation() {
    try {
      var saved = JSON.parse(localStorage.getItem(storeKey) || "null");
      return Boolean(saved && saved.conversationId && !saved.ended);
    } catch (error) {
      return false;
    }
  }

  var api = {
    version: "1",
    open: function () { withPanel("open", []); },
    close: function () { if (panel) panel.close(); },
    toggle: function () { if (panel && panel.isOpen()) panel.close(); else api.open(); },
    setUser: function (user) {
      config.user = user || null;
      if (panel) panel.setUser(config.user);
    },
    setLanguage: function (code) {
      config.language = String(code || "en").toLowerCase();
      labelLauncher();
      if (panel) panel.setLanguage(config.language);
    },
    sendMessage: function (text) { withPanel("sendMessage", [text]); },
    on: function (event, handler) {
      (handlers[event] = handlers[event] || []).push(handler);
      if (event === "ready" && ready) setTimeout(function () { handler({}); });
      if (event === "message") shownMessages.slice().forEach(function (detail) { handler(detail); });
      return api;
    },
    off: function (event, handler) {
      handlers[event] = (handlers[event] || []).filter(function (h) { return handler && h !== handler; });
      return api;
    },
    // panel.js hands itself over here, once; then the hook is gone.
    _attach: function (factory) {
      delete api._attach;
      panel = factory({ root: root, host: host, launcher: launcher, badge: badge, config: config, emit: emit });
      queued.splice(0).forEach(function (call) { panel[call[0]].apply(null, call[1]); });
    },
  };
  window.ChatWidget = api;

  launcher.addEventListener("click", api.toggle);
  function mount() {
    document.body.appendChild(host);
    if (hasConversation()) load();
    ready = true;
    emit("ready", {});
  }
  if (document.body) setTimeout(mount);
  else document.addEventListener("DOMContentLoaded", mount);
})();
