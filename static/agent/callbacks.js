// Callbacks in the agent desk: offers and calls to make, apart from the chats; the outcome of a
// call; scheduling a callback from a chat. Uses the desk's /agent socket (window.deskSocket from
// desk.js). Protocol: docs/callbacks.md. Everything from the wire goes in with textContent.
"use strict";

(() => {
  const ACK_TIMEOUT_MS = 10000;
  const OUTCOME_TEXT = {
    completed: "Completed",
    noAnswer: "No answer",
    busy: "Busy",
    wrongNumber: "Wrong number",
    cancelledByCustomer: "Cancelled by the customer",
  };
  const STATE_TEXT = {
    requested: "Requested",
    scheduled: "Scheduled",
    offered: "Offered",
    inProgress: "Calling",
    completed: "Completed",
    retryScheduled: "Retry scheduled",
    failed: "Failed",
    cancelled: "Cancelled",
    expired: "Late: its window passed",
  };

  const socket = window.deskSocket;
  if (!socket) return;
  const $ = (selector, root = document) => root.querySelector(selector);
  const offersList = $("#callback-offers");
  const tasksList = $("#callback-tasks");
  const panels = $("#panels");
  const dialog = $("#callback-dialog");
  const offers = new Map(); // callbackId -> {el, expiresAt}
  const tasks = new Map(); // callbackId -> {tab, panel, callback}

  function fromTemplate(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function fill(root, fields) {
    for (const [name, value] of Object.entries(fields)) $(`[data-field="${name}"]`, root).textContent = value;
  }

  function notify(text) {
    const notice = $("#notice");
    notice.textContent = text;
    notice.hidden = false;
    setTimeout(() => (notice.hidden = true), 6000);
  }

  function call(event, payload) {
    return new Promise((resolve) => {
      socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (timedOut, ack) => {
        if (timedOut) ack = { ok: false, error: { code: "TIMEOUT", message: "The server did not answer." } };
        if (!ack.ok) notify(ack.error.message);
        resolve(ack);
      });
    });
  }

  const DAY_AND_TIME = { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  const TIME = { hour: "2-digit", minute: "2-digit" };

  function when(iso) {
    return iso ? new Date(iso).toLocaleString([], DAY_AND_TIME) : "";
  }

  function windowText(callback) {
    if (!callback.window) return "As soon as possible";
    const start = new Date(callback.window.start);
    const end = new Date(callback.window.end);
    let text = `${start.toLocaleString([], DAY_AND_TIME)} – ${end.toLocaleTimeString([], TIME)}`;
    if (callback.timeZone) {
      const theirs = start.toLocaleTimeString([], { ...TIME, timeZone: callback.timeZone });
      text += ` (${theirs} for the customer, ${callback.timeZone})`;
    }
    return text;
  }

  function refresh() {
    $("#no-callbacks").hidden = offers.size > 0 || tasks.size > 0;
  }

  // --- offers ------------------------------------------------------------------------------

  function removeOffer(id) {
    offers.get(id)?.el.remove();
    offers.delete(id);
    refresh();
  }

  function tick() {
    for (const { el, expiresAt } of offers.values()) {
      const left = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
      fill(el, { timeLeft: left ? `${left} s left` : "expired" });
      if (!left) $('[data-testid="accept-callback"]', el).disabled = true;
    }
  }
  setInterval(tick, 1000);

  function showOffer(callback) {
    removeOffer(callback.callbackId);
    const item = fromTemplate("callback-offer-template");
    item.dataset.callbackId = callback.callbackId;
    if (callback.late) item.dataset.late = "true";
    const previous = callback.attempts.length ? ` · attempt ${callback.attempts.length + 1}` : "";
    fill(item, { name: callback.name, when: windowText(callback) + previous, queue: callback.queue });
    $('[data-testid="accept-callback"]', item).addEventListener("click", () => answer(callback.callbackId, true));
    $('[data-testid="reject-callback"]', item).addEventListener("click", () => answer(callback.callbackId, false));
    offers.set(callback.callbackId, { el: item, expiresAt: Date.parse(callback.expiresAt) });
    offersList.append(item);
    tick();
    refresh();
  }

  async function answer(id, accept) {
    offers.get(id)?.el.querySelectorAll("button").forEach((button) => (button.disabled = true));
    const ack = await call(accept ? "acceptCallback" : "rejectCallback", { callbackId: id });
    removeOffer(id);
    if (accept && ack.ok) openTask(ack.callback, { show: true });
  }

  // --- tasks: the calls in this agent's hands ---------------------------------------------

  function showPanel(id) {
    for (const chatPanel of panels.querySelectorAll('[data-testid="chat"]')) chatPanel.hidden = true;
    document.querySelectorAll('#tabs [role="tab"]').forEach((tab) => tab.setAttribute("aria-selected", "false"));
    $("#no-panel").hidden = true;
    for (const [taskId, task] of tasks) {
      task.panel.hidden = taskId !== id;
      task.tab.firstElementChild.setAttribute("aria-current", String(taskId === id));
    }
  }

  function hidePanels() {
    for (const task of tasks.values()) {
      task.panel.hidden = true;
      task.tab.firstElementChild.setAttribute("aria-current", "false");
    }
  }
  // A chat tab shows its chat (desk.js): the call panel steps aside.
  $("#tabs").addEventListener("click", hidePanels, true);

  function renderTask(task) {
    const c = task.callback;
    const panel = task.panel;
    fill(panel, {
      queue: c.queue,
      name: c.name,
      state: STATE_TEXT[c.state] || c.state,
      window: windowText(c),
      scheduled: when(c.scheduledFor),
      comment: c.comment || "—",
      email: c.email || "—",
      attemptCount: `${c.attempts.length} of at most ${c.maxAttempts}`,
    });
    fill(task.tab, { name: c.name });
    const phone = $('[data-testid="callback-phone"]', panel);
    phone.textContent = c.phoneDisplay || c.phone;
    phone.href = `tel:${c.phone}`;
    const attempts = $('[data-testid="callback-attempts"]', panel);
    attempts.replaceChildren(
      ...c.attempts.map((attempt) => {
        const item = document.createElement("li");
        const by = attempt.agent ? ` by ${attempt.agent}` : "";
        item.textContent = `${when(attempt.at)}: ${OUTCOME_TEXT[attempt.outcome] || attempt.outcome}${by}`;
        if (attempt.note) {
          const note = document.createElement("q");
          note.textContent = attempt.note;
          item.append(" ", note);
        }
        return item;
      }),
    );
    const transcript = $('[data-testid="callback-transcript"]', panel);
    transcript.hidden = c.transcript.length === 0;
    $(".log", transcript).replaceChildren(
      ...c.transcript.map((line) => {
        const message = document.createElement("div");
        message.className = `message ${line.role === "agent" ? "agent" : ""}`;
        const meta = document.createElement("div");
        meta.className = "meta";
        const from = document.createElement("span");
        from.className = "from";
        from.textContent = line.from || line.role;
        const time = document.createElement("span");
        time.textContent = when(line.at);
        meta.append(from, time);
        const text = document.createElement("div");
        text.className = "text";
        text.textContent = line.text;
        message.append(meta, text);
        return message;
      }),
    );
  }

  function openTask(callback, { show }) {
    let task = tasks.get(callback.callbackId);
    if (!task) {
      task = { tab: fromTemplate("callback-task-template"), panel: fromTemplate("callback-panel-template") };
      task.panel.dataset.callbackId = callback.callbackId;
      task.tab.firstElementChild.addEventListener("click", () => showPanel(callback.callbackId));
      $("form", task.panel).addEventListener("submit", (event) => saveOutcome(event, callback.callbackId));
      tasksList.append(task.tab);
      panels.append(task.panel);
      tasks.set(callback.callbackId, task);
    }
    task.callback = callback;
    renderTask(task);
    refresh();
    if (show) showPanel(callback.callbackId);
  }

  function closeTask(id) {
    const task = tasks.get(id);
    if (!task) return;
    task.tab.remove();
    task.panel.remove();
    tasks.delete(id);
    refresh();
  }

  async function saveOutcome(event, id) {
    event.preventDefault();
    const form = event.target;
    const outcome = new FormData(form).get("outcome");
    form.querySelectorAll("button, input, textarea").forEach((control) => (control.disabled = true));
    const ack = await call("callbackOutcome", { callbackId: id, outcome, note: form.elements.note.value });
    form.querySelectorAll("button, input, textarea").forEach((control) => (control.disabled = false));
    if (!ack.ok) return;
    closeTask(id);
    const next =
      ack.callback.state === "retryScheduled" ? `; next attempt ${when(ack.callback.scheduledFor)}` : "";
    notify(`Callback to ${ack.callback.name}: ${STATE_TEXT[ack.callback.state] || ack.callback.state}${next}.`);
  }

  // --- events from the server ---------------------------------------------------------------

  socket.on("connect", async () => {
    const ack = await call("myCallbacks", {});
    if (!ack.ok) return;
    for (const id of [...offers.keys()]) removeOffer(id);
    for (const callback of ack.offers) showOffer(callback);
    for (const callback of ack.tasks) openTask(callback, { show: false });
    const current = new Set(ack.tasks.map((callback) => callback.callbackId));
    for (const id of [...tasks.keys()]) if (!current.has(id)) closeTask(id); // closed while we were away
  });
  socket.on("callbackOffered", (callback) => showOffer(callback));
  socket.on("callbackOfferWithdrawn", ({ callbackId }) => removeOffer(callbackId));
  socket.on("callbackUpdated", ({ callback }) => {
    removeOffer(callback.callbackId);
    if (callback.state === "inProgress") openTask(callback, { show: false });
    else if (tasks.has(callback.callbackId)) {
      closeTask(callback.callbackId);
      notify(`Callback to ${callback.name}: ${STATE_TEXT[callback.state] || callback.state}.`);
    }
  });

  // --- scheduling a callback from a chat ----------------------------------------------------

  let scheduling = null; // the conversationId the dialog is for

  function addScheduleButton(chatPanel) {
    const actions = $(".chat-actions", chatPanel);
    if (!actions || $('[data-testid="schedule-callback"]', actions)) return;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Call back…";
    button.dataset.testid = "schedule-callback";
    button.addEventListener("click", () => {
      scheduling = chatPanel.dataset.conversationId;
      const details = $('[data-field="details"]', chatPanel)?.textContent || "";
      const phone = details.split(" · ").find((part) => /^\+?[0-9][0-9 ()\-.]{5,}$/.test(part));
      dialog.querySelector("form").reset();
      $("#callback-dialog-phone").value = phone || "";
      dialog.showModal();
    });
    actions.prepend(button);
  }

  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node.nodeType === 1 && node.dataset.testid === "chat") addScheduleButton(node);
      }
    }
  }).observe(panels, { childList: true });

  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "confirm" || !scheduling) return;
    const at = $("#callback-dialog-at").value;
    const payload = {
      conversationId: scheduling,
      phone: $("#callback-dialog-phone").value,
      comment: $("#callback-dialog-comment").value,
      at: at ? new Date(at).toISOString() : null,
    };
    const ack = await call("scheduleCallback", payload);
    if (ack.ok) {
      const verb = ack.created ? "scheduled" : "already open";
      notify(`Callback ${verb} for ${when(ack.callback.scheduledFor)} (${ack.callback.phone}).`);
    }
  });
})();
