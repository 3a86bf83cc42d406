// The smsdesk agent console: plain JavaScript, no build step.
// Signs in against the agent user pool (Cognito InitiateAuth, USER_PASSWORD_AUTH), then calls
// the agent API with the access token; polls the queue and the open conversation every few
// seconds. config.json (written beside it by `smsdesk console publish`, or served by
// `make local`) names the API, the Cognito endpoint and the console's client.
"use strict";

const state = { config: null, token: null, me: null, groups: [], view: "open", search: "", open: null, session: null };
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ identity

function claimsOf(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(decodeURIComponent(escape(atob(part))));
}

async function cognito(target, body) {
  const answer = await fetch(state.config.cognito_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}` },
    body: JSON.stringify(body),
  });
  const payload = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(payload.message || "Sign-in failed");
  return payload;
}

async function signIn(event) {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  const email = $("email").value.trim().toLowerCase();
  try {
    let result;
    if (state.session) { // Cognito asked for a new password (first sign-in with a temporary one)
      result = await cognito("RespondToAuthChallenge", {
        ClientId: state.config.client_id, ChallengeName: "NEW_PASSWORD_REQUIRED", Session: state.session,
        ChallengeResponses: { USERNAME: email, NEW_PASSWORD: $("new-password").value },
      });
    } else {
      result = await cognito("InitiateAuth", {
        AuthFlow: "USER_PASSWORD_AUTH", ClientId: state.config.client_id,
        AuthParameters: { USERNAME: email, PASSWORD: $("password").value },
      });
    }
    if (result.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      state.session = result.Session;
      $("new-password-row").hidden = false;
      $("sign-in-error").textContent = "Choose a new password.";
      $("new-password").focus();
      return;
    }
    state.session = null;
    useToken(result.AuthenticationResult.AccessToken);
    showDesk();
  } catch (error) {
    $("sign-in-error").textContent = error.message === "Incorrect username or password."
      ? "Wrong email or password." : error.message;
  }
}

function useToken(token) {
  const claims = claimsOf(token);
  state.token = token;
  state.me = claims.username;
  state.groups = claims["cognito:groups"] || [];
  sessionStorage.setItem("smsdesk.token", token);
}

function signOut() {
  sessionStorage.removeItem("smsdesk.token");
  state.token = null;
  state.open = null;
  location.hash = "";
  $("desk").hidden = true;
  showDashboard(false);
  $("sign-in").hidden = false;
  $("password").value = "";
  $("email").focus();
}

// ------------------------------------------------------------------ the agent API

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["Idempotency-Key"] = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
  }
  const answer = await fetch(state.config.api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (answer.status === 401) { signOut(); throw new Error("Signed out: sign in again."); }
  const payload = answer.status === 204 ? {} : await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(payload.title || payload.message || `HTTP ${answer.status}`);
  return payload;
}

// ------------------------------------------------------------------ the queue

function seen() { return JSON.parse(localStorage.getItem(`smsdesk.seen.${state.me}`) || "{}"); }
function markSeen(reference, at) {
  const marks = seen(); marks[reference] = at;
  localStorage.setItem(`smsdesk.seen.${state.me}`, JSON.stringify(marks));
}

async function loadQueue() {
  const query = new URLSearchParams({ view: state.view });
  if (state.search) query.set("q", state.search);
  const page = await api("GET", `/conversations?${query}`);
  const marks = seen();
  const list = $("conversations");
  list.replaceChildren(...page.conversations.map((c) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `#/${c.reference}`;
    link.className = "conversation-link" + (c.reference === state.open ? " current" : "");
    link.dataset.reference = c.reference;
    const unread = (marks[c.reference] || "") < c.updated_at;
    link.innerHTML = `
      <span class="ref"></span>${unread ? '<span class="unread" title="New activity">new</span>' : ""}
      ${c.priority === "urgent" ? '<span class="urgent">urgent</span>' : ""}
      <span class="status"></span><span class="customer-no"></span>
      <span class="summary"></span><span class="assignee muted"></span>`;
    link.querySelector(".ref").textContent = c.reference;
    link.querySelector(".status").textContent = c.status.replace(/_/g, " ");
    link.querySelector(".customer-no").textContent = c.customer;
    link.querySelector(".summary").textContent = c.summary;
    link.querySelector(".assignee").textContent = c.assignee ? `assigned to ${c.assignee}` : "unassigned";
    item.append(link);
    return item;
  }));
  $("queue-empty").hidden = page.conversations.length > 0;
}

function chooseView(view) {
  state.view = view;
  document.querySelectorAll("[data-view]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.view === view)));
  loadQueue().catch(showError);
}

// ------------------------------------------------------------------ a conversation

function when(iso) { return iso ? new Date(iso).toLocaleString() : ""; }

async function loadConversation(reference) {
  const c = await api("GET", `/conversations/${encodeURIComponent(reference)}`);
  if (state.open !== reference) return;
  $("conversation").hidden = false;
  $("customer").hidden = false;
  document.body.classList.add("reading");
  $("c-title").textContent = `${c.reference} · ${c.status.replace(/_/g, " ")}`;
  $("c-meta").textContent = [c.priority === "urgent" ? "URGENT" : "", c.category,
    c.assignee ? `assigned to ${c.assignee}` : "unassigned", c.reply_by ? `reply by ${when(c.reply_by)}` : ""]
    .filter(Boolean).join(" · ");
  const thread = $("thread");
  const atBottom = thread.scrollTop + thread.clientHeight >= thread.scrollHeight - 8;
  thread.replaceChildren(...c.messages.map((m) => {
    const item = document.createElement("li");
    item.className = `message ${m.direction}`;
    const who = m.direction === "inbound" ? "customer" : m.author;
    let status = "";
    if (m.direction === "outbound") {
      status = m.status;
      if (m.send_after && !m.sent_at) status += ` until ${when(m.send_after)}`;
    }
    const label = m.direction === "note" ? "internal note" : m.direction === "activity" ? "" : "";
    item.innerHTML = `<p class="body"></p><p class="meta muted"></p>`;
    item.querySelector(".body").textContent = m.body;
    const photos = m.num_media ? `${m.media_stored || 0} of ${m.num_media} photo${m.num_media === 1 ? "" : "s"} stored` : "";
    item.querySelector(".meta").textContent = [label, who, when(m.created_at), status, photos]
      .filter(Boolean).join(" · ");
    if ((m.media || []).length) item.querySelector(".body").after(mediaList(m));
    return item;
  }));
  if (atBottom) thread.scrollTop = thread.scrollHeight;
  const resolved = c.status === "resolved" || c.status === "closed";
  $("resolve").hidden = resolved;
  $("resolution").disabled = resolved;
  $("reopen").hidden = !resolved;
  const profile = c.customer_profile || {};
  const details = [
    ["Name", profile.name || "not known"], ["Number", c.customer],
    ["Consent", profile.consent ? `${profile.consent.replace(/_/g, " ")}${profile.consent_source ? ` (${profile.consent_source}, ${when(profile.consent_changed_at)})` : ""}` : ""],
    ["Conversations", String(profile.conversation_count ?? "")], ["Customer since", when(profile.customer_since)],
    ["CSAT", c.csat_score ? `${c.csat_score} / 5` : "none yet"],
    ["Language", profile.language ? `${profile.language}${profile.language_chosen_by ? " (chosen)" : " (detected)"}` : "not known"],
    ["Time zone", profile.time_zone || "from their number"],
    ["Details changed", profile.profile_changed_by ? `by ${profile.profile_changed_by.replace(/^agent:/, "")}, ${when(profile.profile_changed_at)}` : "never"],
  ];
  fillCustomerForm(c.customer, profile);
  const past = c.past_conversations || [];
  $("past-conversations").replaceChildren(...(past.length ? past : [null]).map((p) => {
    const item = document.createElement("li");
    if (!p) { item.textContent = "none"; return item; }
    const link = document.createElement("a");
    link.href = `#${encodeURIComponent(p.reference)}`;
    link.textContent = p.reference;
    item.append(link, ` · ${p.category} · ${p.status.replace(/_/g, " ")} · ${when(p.opened_at)} · CSAT ${p.csat_score ? `${p.csat_score} / 5` : "none"}`);
    return item;
  }));
  $("customer-details").replaceChildren(...details.flatMap(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    return [dt, dd];
  }));
  markSeen(c.reference, c.updated_at);
}

// The panel's form is filled when another customer opens or their details changed, never while
// the agent is typing (the conversation is polled every few seconds).
function fillCustomerForm(number, profile) {
  const version = `${number} ${profile.profile_changed_at || ""}`;
  if (state.customerForm === version) return;
  state.customerForm = version;
  const language = $("customer-language");
  if (language.options.length === 1) language.append(...(profile.languages || []).map((code) => new Option(code, code)));
  $("customer-name").value = profile.name || "";
  language.value = profile.language_chosen_by ? profile.language : "";
  $("customer-zone").value = profile.time_zone || "";
}

// Photos: each stored one through its short-lived link (kept while it is valid, so the poll
// does not fetch the image again), a PDF or HEIC photo as a link, the others with their reason.
const links = new Map();
function linkFor(m, a) {
  const id = `${m.key}/${a.index}`;
  const known = links.get(id);
  if (known && Date.parse(known.expires) - Date.now() > 60_000) return known.url;
  links.set(id, { url: a.url, expires: a.url_expires_at });
  return a.url;
}

function mediaList(m) {
  const list = document.createElement("ul");
  list.className = "media";
  list.append(...m.media.map((a) => {
    const item = document.createElement("li");
    const kind = a.content_type || "file";
    if (a.status === "stored" && a.url) {
      const url = linkFor(m, a);
      const link = document.createElement("a");
      link.href = url; link.target = "_blank"; link.rel = "noopener";
      if (kind.startsWith("image/") && kind !== "image/heic") {
        const image = document.createElement("img");
        image.src = url; image.alt = `Photo ${a.index + 1} from the customer`; image.loading = "lazy";
        link.append(image);
      } else {
        link.textContent = `${kind === "application/pdf" ? "PDF document" : "HEIC photo"} ${a.index + 1} (${Math.ceil((a.size || 0) / 1024)} KB)`;
      }
      item.append(link);
    } else if (a.status === "refused") {
      item.className = "refused";
      item.textContent = `Attachment ${a.index + 1} refused: ${a.reason}`;
    } else if (a.status === "expired") {
      item.className = "muted";
      item.textContent = `Attachment ${a.index + 1} deleted (kept until ${when(a.kept_until)})`;
    } else {
      item.className = "muted";
      item.textContent = `Attachment ${a.index + 1} arriving…`;
    }
    return item;
  }));
  return list;
}

function openFromHash() {
  const dashboard = location.hash === "#dashboard";
  showDashboard(dashboard);
  if (dashboard) {
    state.open = null;
    $("conversation").hidden = true;
    $("customer").hidden = true;
    return;
  }
  const reference = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  state.open = reference || null;
  $("action-error").textContent = "";
  if (!reference) {
    $("conversation").hidden = true;
    $("customer").hidden = true;
    document.body.classList.remove("reading");
    return;
  }
  loadConversation(reference).then(() => loadQueue()).catch(showError);
}

function showError(error) { $("action-error").textContent = error.message; }

async function act(promise, after) {
  $("action-error").textContent = "";
  try {
    await promise();
    if (after) after();
    await loadConversation(state.open);
    await loadQueue();
  } catch (error) { showError(error); }
}

function updateCounter() {
  const text = $("reply").value;
  const count = countSegments(text);
  $("counter").textContent = `${Array.from(text).length} characters · ${count.encoding} · ${count.segments} segment${count.segments === 1 ? "" : "s"}`;
}

async function loadCanned() {
  const { canned_responses: responses } = await api("GET", "/canned-responses");
  $("canned").replaceChildren(new Option("Choose a canned response", ""), ...responses.map((r) => new Option(r.title, r.text)));
}

// ------------------------------------------------------------------ start

function showDesk() {
  $("sign-in").hidden = true;
  $("desk").hidden = false;
  $("who").textContent = `${state.me}${state.groups.includes("supervisors") ? " (supervisor)" : ""}`;
  $("dashboard-link").hidden = !state.groups.includes("supervisors"); // the API refuses agents too
  loadCanned().catch(showError);
  loadQueue().catch(showError);
  openFromHash();
}

function wire() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  document.querySelectorAll("[data-view]").forEach((b) => b.addEventListener("click", () => chooseView(b.dataset.view)));
  let typing;
  $("search").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.search = $("search").value.trim(); loadQueue().catch(showError); }, 250);
  });
  $("back").addEventListener("click", () => { location.hash = ""; });
  $("reply").addEventListener("input", updateCounter);
  $("canned").addEventListener("change", () => {
    if ($("canned").value) { $("reply").value = $("canned").value; updateCounter(); $("reply").focus(); }
  });
  $("reply-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("reply").value;
    act(() => api("POST", `/conversations/${encodeURIComponent(state.open)}/replies`, { text }),
      () => { $("reply").value = ""; $("canned").value = ""; updateCounter(); });
  });
  $("note-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("note").value;
    act(() => api("POST", `/conversations/${encodeURIComponent(state.open)}/notes`, { text }), () => { $("note").value = ""; });
  });
  $("assign-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const to = $("assignee").value.trim() || null;
    act(() => api("POST", `/conversations/${encodeURIComponent(state.open)}/assign`, { to }), () => { $("assignee").value = ""; });
  });
  $("assign-me").addEventListener("click", () =>
    act(() => api("POST", `/conversations/${encodeURIComponent(state.open)}/assign`, { to: state.me })));
  $("resolve-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const note = $("resolution").value.trim();
    act(() => api("POST", `/conversations/${encodeURIComponent(state.open)}/resolve`, note ? { note } : {}),
      () => { $("resolution").value = ""; });
  });
  $("customer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const number = state.customerForm.split(" ")[0];
    const changes = { name: $("customer-name").value.trim(), language: $("customer-language").value || null,
      time_zone: $("customer-zone").value.trim() || null };
    act(() => api("PATCH", `/customers/${encodeURIComponent(number)}`, changes));
  });
  $("reopen").addEventListener("click", () =>
    act(() => api("POST", `/conversations/${encodeURIComponent(state.open)}/reopen`, {})));
  $("dashboard-form").addEventListener("submit", (e) => { e.preventDefault(); loadDashboard(); });
  window.addEventListener("hashchange", openFromHash);
  updateCounter();
}

async function start() {
  state.config = await (await fetch("config.json", { cache: "no-store" })).json();
  wire();
  const saved = sessionStorage.getItem("smsdesk.token");
  if (saved && claimsOf(saved).exp * 1000 > Date.now()) {
    useToken(saved);
    showDesk();
  } else {
    $("sign-in").hidden = false;
    $("email").focus();
  }
  // Updates without reloading: the queue and the open conversation, every few seconds.
  setInterval(() => {
    if (!state.token || document.hidden) return;
    loadQueue().catch(() => {});
    if (state.open) loadConversation(state.open).catch(() => {});
  }, (state.config.poll_seconds || 3) * 1000);
}

start();
