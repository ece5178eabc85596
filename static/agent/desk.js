// The agent desk: one Socket.IO connection to /agent (authenticated by the session cookie),
// offers in the sidebar, one tab per open conversation. Protocol: docs/ and conversations/sockets.py.
// Everything that comes from the wire is put in the page with textContent, never as HTML.
"use strict";

(() => {
  const TYPING_SHOWN_MS = 3000; // how long "… is typing" stays without a new typing event
  const TYPING_SENT_EVERY_MS = 2000; // at most one typing event per conversation this often
  const ACK_TIMEOUT_MS = 10000;

  const $ = (selector, root = document) => root.querySelector(selector);
  const deskEl = $("#desk");
  const readyToggle = $("#ready-toggle");
  const offersList = $("#offers");
  const tabsList = $("#tabs");
  const panels = $("#panels");
  const picker = $("#picker");

  const socket = io("/agent", { transports: ["websocket", "polling"] });
  window.deskSocket = socket; // shared with static/agent/callbacks.js
  const offers = new Map(); // conversationId -> {el, expiresAt}
  const chats = new Map(); // conversationId -> chat (see openChat)
  let me = null; // the agent, from agentInfo
  let active = null; // conversationId of the shown tab
  let focusNext = null; // the conversation just accepted: show it when its info arrives
  let pickerAction = null;

  // --- helpers ----------------------------------------------------------------------------

  function fromTemplate(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function fill(root, fields) {
    for (const [name, value] of Object.entries(fields)) $(`[data-field="${name}"]`, root).textContent = value;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  let noticeTimer = null;
  function notify(text, { sticky = false } = {}) {
    const notice = $("#notice");
    notice.replaceChildren(typeof text === "string" ? document.createTextNode(text) : text);
    notice.hidden = false;
    clearTimeout(noticeTimer);
    if (!sticky) noticeTimer = setTimeout(() => (notice.hidden = true), 6000);
  }

  // Emit with an ack; resolves to the ack ({ok: true, ...} or {ok: false, error}) and shows errors.
  function call(event, payload) {
    return new Promise((resolve) => {
      socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (timedOut, ack) => {
        if (timedOut) ack = { ok: false, error: { code: "TIMEOUT", message: "The server did not answer." } };
        if (!ack.ok) notify(ack.error.message);
        resolve(ack);
      });
    });
  }

  function customerName(customer) {
    const name = customer.name || [customer.firstName, customer.lastName].filter(Boolean).join(" ");
    return name || customer.email || customer.phone || customer.refId || "Customer";
  }

  function clock(iso) {
    return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  }

  // --- connection and agent state ----------------------------------------------------------

  function setConnection(status, text) {
    const badge = $("#connection");
    badge.dataset.status = status;
    badge.textContent = text;
    readyToggle.disabled = status !== "connected";
  }

  socket.on("connect", () => {
    setConnection("connected", "Connected");
    $("#notice").hidden = true;
    for (const id of [...offers.keys()]) removeOffer(id); // the server sends the pending ones again
  });
  socket.on("disconnect", () => setConnection("offline", socket.active ? "Reconnecting…" : "Disconnected"));
  socket.on("connect_error", (error) => {
    if (socket.active) return setConnection("offline", "Reconnecting…");
    // Refused by the server (the session ended, or the user is no longer an agent): no retrying.
    setConnection("offline", "Not signed in");
    const signedOut = error.data?.code === "UNAUTHORIZED";
    const message = el("span", "", signedOut ? "Your session has ended. " : `The server refused the connection: ${error.message}`);
    if (signedOut) {
      const link = el("a", "", "Log in again");
      link.href = deskEl.dataset.loginUrl;
      message.append(link);
    }
    notify(message, { sticky: true });
  });

  function showState(agent) {
    me = agent;
    const ready = agent.state === "ready";
    readyToggle.dataset.state = agent.state;
    readyToggle.setAttribute("aria-checked", String(ready));
    readyToggle.textContent = ready ? "Ready" : "Not ready";
  }

  socket.on("agentInfo", ({ agent }) => {
    $("#agent-name").textContent = agent.name;
    showState(agent);
  });

  readyToggle.addEventListener("click", async () => {
    readyToggle.disabled = true;
    const ack = await call("agentState", { state: me && me.state === "ready" ? "notReady" : "ready" });
    readyToggle.disabled = !socket.connected;
    if (ack.ok) showState(ack.agent);
  });

  // --- offers ------------------------------------------------------------------------------

  function refreshCounts() {
    $("#no-offers").hidden = offers.size > 0;
    $("#no-chats").hidden = chats.size > 0;
    $("#no-panel").hidden = chats.size > 0;
    document.title = (offers.size ? `(${offers.size}) ` : "") + document.title.replace(/^\(\d+\) /, "");
  }

  function removeOffer(id) {
    offers.get(id)?.el.remove();
    offers.delete(id);
    refreshCounts();
  }

  function tickOffers() {
    for (const { el: item, expiresAt } of offers.values()) {
      const left = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
      fill(item, { timeLeft: left ? `${left} s left` : "expired" });
      if (!left) $('[data-testid="accept"]', item).disabled = true;
    }
  }
  setInterval(tickOffers, 1000);

  async function answerOffer(id, event) {
    const item = offers.get(id)?.el;
    item?.querySelectorAll("button").forEach((button) => (button.disabled = true));
    if (event === "acceptConversation") focusNext = id;
    const ack = await call(event, { conversationId: id });
    removeOffer(id);
    if (!ack.ok && focusNext === id) focusNext = null;
    if (ack.ok && chats.has(id)) activate(id);
  }

  socket.on("conversationOffered", (offer) => {
    const id = offer.conversation.id;
    removeOffer(id);
    const item = fromTemplate("offer-template");
    item.dataset.conversationId = id;
    fill(item, {
      customer: customerName(offer.customer),
      channel: offer.conversation.channel,
      subject: offer.conversation.subject || "No subject",
      queue: offer.queue,
    });
    $('[data-field="verified"]', item).hidden = !offer.conversation.verified;
    $('[data-testid="accept"]', item).addEventListener("click", () => answerOffer(id, "acceptConversation"));
    $('[data-testid="reject"]', item).addEventListener("click", () => answerOffer(id, "rejectConversation"));
    offers.set(id, { el: item, expiresAt: Date.parse(offer.expiresAt) });
    offersList.append(item);
    tickOffers();
    refreshCounts();
  });

  socket.on("offerWithdrawn", ({ conversationId }) => removeOffer(conversationId));

  // --- conversations -----------------------------------------------------------------------

  function openChat(id) {
    const chat = {
      id,
      tab: fromTemplate("tab-template"),
      panel: fromTemplate("chat-template"),
      seen: new Set(), // sequences already shown
      participants: new Map(),
      typingTimer: null,
      typingSentAt: 0,
      readSent: 0, // the last customer message this desk said it read
      customerRead: 0, // the last sequence the customer said they read
      closed: null, // "ended" or "left" once the agent can no longer write
    };
    chat.log = $('[data-testid="log"]', chat.panel);
    chat.typing = $('[data-testid="typing"]', chat.panel);
    chat.composer = $('[data-testid="composer"]', chat.panel);
    chat.whisper = $('[data-testid="whisper"]', chat.panel);
    chat.tab.firstElementChild.dataset.conversationId = chat.panel.dataset.conversationId = id;
    chat.tab.firstElementChild.addEventListener("click", () => activate(id));
    wireComposer(chat);
    chat.panel.querySelectorAll("[data-action]").forEach((button) => {
      button.addEventListener("click", () => actions[button.dataset.action](chat, button));
    });
    tabsList.append(chat.tab);
    panels.append(chat.panel);
    chats.set(id, chat);
    refreshCounts();
    return chat;
  }

  function activate(id) {
    active = id;
    for (const chat of chats.values()) {
      const shown = chat.id === id;
      chat.panel.hidden = !shown;
      chat.tab.firstElementChild.setAttribute("aria-selected", String(shown));
      if (shown) delete chat.tab.firstElementChild.dataset.unread;
    }
    const chat = chats.get(id);
    if (chat && !chat.closed) chat.composer.focus();
    if (chat) sendRead(chat);
  }

  function describe(chat) {
    const c = chat.conversation;
    const others = [...chat.participants.values()].filter((p) => p.id !== chat.me.id).map((p) => p.name);
    fill(chat.panel, {
      customer: customerName(c.customer),
      details: [c.channel, c.subject, c.customer.email, c.customer.phone].filter(Boolean).join(" · "),
      participants: others.join(", ") || "nobody",
    });
    $('[data-field="verified"]', chat.panel).hidden = !c.verified;
    fill(chat.tab, { customer: customerName(c.customer), state: chat.closed ? chat.closed : "" });
  }

  socket.on("conversationInfo", (info) => {
    const id = info.conversation.id;
    const chat = chats.get(id) || openChat(id);
    chat.conversation = info.conversation;
    chat.me = info.me;
    chat.participants = new Map(info.participants.map((p) => [p.id, p]));
    chat.log.replaceChildren();
    chat.seen.clear();
    for (const message of info.messages) show(chat, message, { history: true });
    sendRead(chat);
    setClosed(chat, info.conversation.state === "open" ? null : "ended");
    describe(chat);
    if (focusNext === id || !chats.has(active)) {
      focusNext = null;
      activate(id);
    }
  });

  socket.on("conversationAssigned", async ({ conversationId, participant }) => {
    focusNext = conversationId; // someone added or transferred it to us: its info follows the join
    await call("joinConversation", { conversationId, participant: { id: participant.id } });
  });

  socket.on("conversationRemoved", ({ conversationId }) => {
    const chat = chats.get(conversationId);
    if (chat && !chat.closed) setClosed(chat, "left");
  });

  socket.on("messageArrived", (message) => {
    const chat = chats.get(message.conversationId);
    if (chat && chat.me) show(chat, message, { history: false });
  });

  // why: "ended", "left" (the agent can no longer write), or null (open again, e.g. added back).
  function setClosed(chat, why) {
    chat.closed = why;
    for (const node of [chat.panel, chat.tab.firstElementChild]) {
      if (why) node.dataset.state = why;
      else delete node.dataset.state;
    }
    const banner = $('[data-field="banner"]', chat.panel);
    banner.textContent = why === "ended" ? "This conversation has ended." : "You are no longer in this conversation.";
    banner.hidden = !why;
    chat.panel.querySelectorAll("textarea, input, button[type=submit], [data-action], [data-testid=attach]").forEach((control) => {
      control.disabled = Boolean(why) && control.dataset.action !== "close";
    });
    $('[data-action="close"]', chat.panel).hidden = !why;
    if (why) hideTyping(chat);
    if (chat.conversation) describe(chat);
  }

  // --- messages ----------------------------------------------------------------------------

  const ACTIVITY_TEXT = {
    participantJoined: (m) => `${who(m)} joined`,
    participantAdded: (m) => `${who(m)} was added`,
    participantLeft: (m) => `${who(m)} left`,
    participantRemoved: (m) => `${who(m)} handed the conversation on`,
    handOff: (m) => `Waiting for an agent in queue ${m.info?.queue ?? ""}`,
    noAgentAvailable: () => "No agent is available",
    endOfConversation: (m) =>
      m.info?.endedBy ? `${m.info.endedBy.name || "Someone"} ended the conversation` : "The conversation ended",
  };
  const who = (m) => m.info?.participant?.name || "Someone";

  function show(chat, message, { history }) {
    if (message.type === "ActivityMessage" && message.activityType === "typing") {
      if (!history && message.from.id !== chat.me.id) showTyping(chat, message.from);
      return;
    }
    if (message.type === "ActivityMessage" && message.activityType === "read") {
      if (message.from.role === "customer") markRead(chat, message.info?.sequence || 0);
      return;
    }
    if (chat.seen.has(message.sequence) || message.activityType === "greetings") return;
    chat.seen.add(message.sequence);
    const line = message.type === "ChatMessage" ? chatLine(chat, message) : activityLine(chat, message, history);
    line.dataset.sequence = message.sequence;
    const later = [...chat.log.children].find((node) => Number(node.dataset.sequence) > message.sequence);
    chat.log.insertBefore(line, later || null);
    if (!later) chat.log.scrollTop = chat.log.scrollHeight;
    if (message.type === "ChatMessage" && chat.typing.dataset.from === message.from.id) hideTyping(chat);
    if (!history && chat.id !== active) chat.tab.firstElementChild.dataset.unread = "true";
    if (message.type === "ChatMessage" && message.from.id === chat.me.id) markRead(chat, chat.customerRead);
    if (!history && message.from?.role === "customer") sendRead(chat);
  }

  // Read receipts (docs/agent-api.md): the desk says what it has shown of the customer's
  // messages, and marks its own messages the customer has read.
  function sendRead(chat) {
    if (chat.id !== active || document.hidden || chat.closed || !chat.me) return;
    let last = 0;
    for (const node of chat.log.querySelectorAll('[data-role="customer"][data-testid="message"]')) {
      last = Math.max(last, Number(node.dataset.sequence));
    }
    if (last <= chat.readSent) return;
    chat.readSent = last;
    socket.emit("sendMessage", {
      conversationId: chat.id,
      type: "ActivityMessage",
      activityType: "read",
      info: { sequence: last },
      requestId: `read-${last}`,
    });
  }
  document.addEventListener("visibilitychange", () => chats.has(active) && sendRead(chats.get(active)));

  function markRead(chat, sequence) {
    chat.customerRead = Math.max(chat.customerRead, sequence);
    for (const node of chat.log.querySelectorAll('.message.mine[data-testid="message"]')) {
      if (Number(node.dataset.sequence) > chat.customerRead || $('[data-testid="read-marker"]', node)) continue;
      const marker = el("span", "read-marker", "Read");
      marker.dataset.testid = "read-marker";
      marker.title = "The customer has seen this message";
      $(".meta", node).append(marker);
    }
  }

  function chatLine(chat, message) {
    const mine = message.from.id === chat.me.id;
    const line = el("div", `message ${mine ? "mine" : message.from.role}`);
    line.dataset.testid = "message";
    line.dataset.role = message.from.role;
    if (message.tag === "whisper") {
      line.classList.add("whisper");
      line.dataset.tag = "whisper";
    }
    const meta = el("div", "meta");
    meta.append(el("span", "from", mine ? "You" : message.from.name || message.from.role));
    if (message.tag === "whisper") meta.append(el("span", "badge", "whisper"));
    meta.append(el("time", "", clock(message.timestamp)));
    line.append(meta, el("div", "text", message.text));
    for (const attachment of message.attachments || []) {
      const link = el("a", "attachment", attachment.name || attachment.contentUrl);
      link.dataset.testid = "attachment";
      if (/^https?:/i.test(attachment.contentUrl)) link.href = attachment.contentUrl;
      // Inline only from this server's own file store: an image from elsewhere would tell its host who looked.
      const ours = (attachment.thumbnailUrl || "").startsWith(`${location.origin}/widget/files/`);
      if (/^image\//.test(attachment.type || "") && ours) {
        const image = el("img", "thumbnail");
        image.src = attachment.thumbnailUrl;
        image.alt = `Image ${attachment.name || ""}`;
        link.replaceChildren(image);
      }
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      line.append(link);
    }
    return line;
  }

  function activityLine(chat, message, history) {
    const participant = message.info?.participant;
    if (!history && participant) {
      // conversationInfo said who is present; later arrivals and departures keep that up to date
      if (/^participant(Joined|Added)$/.test(message.activityType)) chat.participants.set(participant.id, participant);
      if (/^participant(Left|Removed)$/.test(message.activityType)) chat.participants.delete(participant.id);
      describe(chat);
    }
    if (message.activityType === "endOfConversation") setClosed(chat, "ended");
    const text = (ACTIVITY_TEXT[message.activityType] || ((m) => m.activityType))(message);
    const line = el("div", "activity", `${text} · ${clock(message.timestamp)}`);
    line.dataset.testid = "activity";
    line.dataset.activityType = message.activityType;
    return line;
  }

  function showTyping(chat, from) {
    chat.typing.textContent = `${from.name || "Customer"} is typing…`;
    chat.typing.dataset.from = from.id;
    chat.typing.hidden = false;
    clearTimeout(chat.typingTimer);
    chat.typingTimer = setTimeout(() => hideTyping(chat), TYPING_SHOWN_MS);
  }

  function hideTyping(chat) {
    clearTimeout(chat.typingTimer);
    chat.typing.hidden = true;
    delete chat.typing.dataset.from;
  }

  // --- writing -----------------------------------------------------------------------------

  function wireComposer(chat) {
    const form = chat.composer.form;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = chat.composer.value.trim();
      if (!text || chat.closed) return;
      const tag = chat.whisper.checked ? "whisper" : "";
      chat.composer.value = "";
      const ack = await call("sendMessage", { conversationId: chat.id, type: "ChatMessage", text, tag });
      if (!ack.ok) {
        if (!chat.composer.value) chat.composer.value = text; // give the text back to edit or retry
        return;
      }
      const sent = { sequence: ack.sequence, type: "ChatMessage", from: chat.me, text, tag, timestamp: ack.timestamp };
      show(chat, sent, { history: false });
    });
    const fileInput = $('[data-testid="file"]', chat.panel);
    $('[data-testid="attach"]', chat.panel).addEventListener("click", () => fileInput.click());
    fileInput.addEventListener("change", async () => {
      for (const file of fileInput.files) await sendFile(chat, file);
      fileInput.value = "";
    });
    chat.composer.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    chat.composer.addEventListener("input", () => {
      // No typing indicator for the customer while the agent writes a whisper.
      if (!chat.composer.value || chat.whisper.checked || Date.now() - chat.typingSentAt < TYPING_SENT_EVERY_MS) return;
      chat.typingSentAt = Date.now();
      socket.emit("sendMessage", { conversationId: chat.id, type: "ActivityMessage", activityType: "typing" });
    });
    chat.whisper.addEventListener("change", () => form.classList.toggle("whispering", chat.whisper.checked));
  }

  // An agent's attachment: uploaded with the session (POST /agent/attachments), then sent.
  async function sendFile(chat, file) {
    const data = new FormData();
    data.append("conversationId", chat.id);
    data.append("file", file, file.name);
    const csrf = $('input[name="csrfmiddlewaretoken"]').value;
    let attachment;
    try {
      const response = await fetch(deskEl.dataset.uploadUrl, { method: "POST", body: data, headers: { "X-CSRFToken": csrf } });
      attachment = await response.json();
      if (!response.ok) return notify(`${file.name}: ${attachment.error?.message || response.statusText}`);
    } catch (error) {
      return notify(`${file.name} could not be uploaded: ${error.message}`);
    }
    const ack = await call("sendMessage", { conversationId: chat.id, type: "ChatMessage", attachments: [attachment] });
    if (ack.ok) {
      const sent = { sequence: ack.sequence, type: "ChatMessage", from: chat.me, text: "", tag: "", timestamp: ack.timestamp, attachments: [attachment] };
      show(chat, sent, { history: false });
    }
  }

  // --- conversation actions ----------------------------------------------------------------

  function option(value, label, disabled = false) {
    const item = el("option", "", label);
    item.value = value;
    item.disabled = disabled;
    return item;
  }

  function group(label, options) {
    const node = el("optgroup");
    node.label = label;
    node.append(...options);
    return node;
  }

  async function choose(title, withQueues, then) {
    const directory = await call("directory", {});
    if (!directory.ok) return;
    const byName = (a, b) => a.name.localeCompare(b.name);
    const agents = directory.agents
      .filter((agent) => !me || agent.id !== me.id)
      .sort(byName)
      .map((agent) => {
        const status = agent.connected ? (agent.state === "ready" ? "ready" : "not ready") : "offline";
        return option(`agent:${agent.id}`, `${agent.name} (${status}, ${agent.load}/${agent.maxChats})`, !agent.connected);
      });
    const select = $("#picker-target");
    select.replaceChildren();
    if (withQueues) {
      const queues = directory.queues.sort(byName).map((q) => option(`queue:${q.name}`, `${q.name} (${q.waiting} waiting)`));
      select.append(group("Queues", queues));
    }
    select.append(group("Agents", agents.length ? agents : [option("", "No other agent", true)]));
    const choice = select.querySelector("option:not([disabled])");
    if (choice) select.value = choice.value;
    else select.selectedIndex = 0; // show why there is nobody to pick
    $('[data-testid="picker-confirm"]', picker).disabled = !choice;
    fill(picker, { title });
    pickerAction = then;
    picker.returnValue = "";
    picker.showModal();
  }

  picker.addEventListener("close", () => {
    const action = pickerAction;
    pickerAction = null;
    const selected = $("#picker-target").selectedOptions[0];
    if (picker.returnValue !== "confirm" || !action || !selected || selected.disabled) return;
    const [kind, target] = selected.value.split(/:(.*)/s);
    action(kind, target);
  });

  const actions = {
    transfer: (chat) =>
      choose("Transfer this conversation", true, (kind, target) =>
        call("transferConversation", {
          conversationId: chat.id,
          ...(kind === "queue" ? { queue: target } : { agentId: Number(target) }),
        }),
      ),
    add: (chat) =>
      choose("Add an agent to this conversation", false, (_kind, target) =>
        call("addAgent", { conversationId: chat.id, agentId: Number(target) }),
      ),
    leave: (chat) => call("leaveConversation", { conversationId: chat.id }),
    end: (chat, button) => {
      // Ending is for everyone and cannot be undone: the first click asks, the second ends.
      if (button.dataset.confirming) return call("endConversation", { conversationId: chat.id });
      button.dataset.confirming = "true";
      button.textContent = "End for everyone?";
      setTimeout(() => {
        delete button.dataset.confirming;
        button.textContent = "End";
      }, 4000);
    },
    close: (chat) => {
      chat.tab.remove();
      chat.panel.remove();
      chats.delete(chat.id);
      refreshCounts();
      const next = chats.keys().next().value;
      if (next) activate(next);
      else active = null;
    },
  };

  // --- connector delivery (docs/connectors.md) ------------------------------------------------
  // A reply to a customer on a connector's channel (SMS, WhatsApp, ...) shows how far it got
  // (messageStatus); one that could not be delivered says why, and its deliveryFailed activity
  // stays in the history. Statuses only move forward (callbacks can arrive out of order).
  const DELIVERY_TEXT = {
    queued: "Queued",
    sent: "Sent",
    delivered: "Delivered",
    read: "Read",
    undelivered: "Not delivered",
    failed: "Not sent",
    suppressed: "Not sent: the customer opted out",
  };
  const DELIVERY_RANK = { queued: 0, sent: 1, delivered: 2, undelivered: 2, failed: 2, read: 3, suppressed: 3 };
  const deliveryReason = (error) => (error && (error.message || error.code)) || "";
  Object.assign(ACTIVITY_TEXT, {
    deliveryFailed: (m) => {
      if (m.info?.status === "suppressed") return "A reply was not sent: the customer opted out";
      const why = deliveryReason(m.info?.error);
      return `${DELIVERY_TEXT[m.info?.status] || "Not delivered"}: a reply did not reach the customer${why ? ` (${why})` : ""}`;
    },
    optedOut: () => "The customer opted out (STOP): replies will not be sent",
    optedIn: () => "The customer opted in again (START)",
  });

  function showDelivery(status, triesLeft = 10) {
    const chat = chats.get(status.conversationId);
    if (!chat || status.sequence == null) return;
    const line = chat.log.querySelector(`.message[data-sequence="${Number(status.sequence)}"]`);
    if (!line) {
      // The status can come before the ack of the reply it is about.
      if (triesLeft > 0) setTimeout(() => showDelivery(status, triesLeft - 1), 200);
      return;
    }
    let badge = line.querySelector(".delivery");
    if (!badge) {
      badge = el("div", "delivery");
      badge.dataset.testid = "delivery";
      line.append(badge);
    } else if ((DELIVERY_RANK[status.status] ?? 0) < (DELIVERY_RANK[badge.dataset.status] ?? 0)) {
      return;
    }
    badge.dataset.status = status.status;
    const failed = ["undelivered", "failed"].includes(status.status); // suppressed says why already
    const why = failed ? deliveryReason(status.error) : "";
    badge.textContent = (DELIVERY_TEXT[status.status] || status.status) + (why ? ` (${why})` : "");
  }

  socket.on("messageStatus", (status) => showDelivery(status));
})();
