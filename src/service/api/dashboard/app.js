// The dashboard: every guest with its state and live usage, start/stop/restart, a guest's log,
// a command box, a console to `enter` it, recent events and the host's vserver-stat view. All data comes from the REST
// API with the token in an Authorization header (kept in this tab's sessionStorage), never in a
// cookie, so another site cannot make the browser act for the user (docs/api.md#dashboard).

import { h, render } from "preact";
import { useEffect, useState, useRef } from "preact/hooks";
import htm from "htm";
import { Terminal } from "@xterm/xterm";

const html = htm.bind(h);
const HISTORY = 60;

function token() {
  return sessionStorage.getItem("vserver-token") || "";
}

async function api(method, path, body) {
  const headers = { "content-type": "application/json" };
  if (token()) headers.authorization = `Bearer ${token()}`;
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) throw Object.assign(new Error("unauthorized"), { status: 401 });
  const ct = r.headers.get("content-type") || "";
  const data = ct.startsWith("application/json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error(data.error || `HTTP ${r.status}`);
  return data;
}

const mib = (b) => (b == null ? "" : `${(b / 1048576).toFixed(1)} MiB`);

function Spark({ values }) {
  if (values.length < 2) return html`<span></span>`;
  const max = Math.max(...values, 1);
  const pts = values.map((v, i) => `${(i / (HISTORY - 1)) * 100},${20 - (v / max) * 18}`).join(" ");
  return html`<svg width="100" height="20" aria-label="memory over the last two minutes"><polyline points=${pts} fill="none" stroke="#36c" stroke-width="1.5" /></svg>`;
}

/** `enter` the guest: xterm.js over the API's console websocket (service/api/console.ts). */
function Console({ name, onClose }) {
  const box = useRef(null);
  useEffect(() => {
    const term = new Terminal({ cols: 90, rows: 20, convertEol: false });
    term.open(box.current);
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/guests/${name}/console`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => ws.send(JSON.stringify({ cols: term.cols, rows: term.rows, token: token() || undefined }));
    ws.onmessage = (e) => {
      if (typeof e.data === "string") {
        const m = JSON.parse(e.data);
        if ("exit" in m) term.write(`\r\n[the shell ended: ${m.exit}]\r\n`);
      } else term.write(new Uint8Array(e.data));
    };
    ws.onclose = (e) => e.code !== 1000 && term.write(`\r\n[closed: ${e.reason || e.code}]\r\n`);
    const sub = term.onData((d) => ws.readyState === 1 && ws.send(JSON.stringify({ input: d })));
    term.focus();
    window.vserverTerminal = term; // for the browser test, which reads the screen
    return () => {
      sub.dispose();
      ws.close();
      term.dispose();
    };
  }, [name]);
  return html`<div><div id="terminal" ref=${box}></div><button id="close-console" onClick=${onClose}>close console</button></div>`;
}

function Login({ onDone }) {
  const [value, setValue] = useState("");
  return html`<form id="login" onSubmit=${(e) => { e.preventDefault(); sessionStorage.setItem("vserver-token", value); onDone(); }}>
    <p>This service needs a token.</p>
    <input id="token" type="password" value=${value} onInput=${(e) => setValue(e.target.value)} placeholder="token" />
    <button type="submit">Sign in</button>
  </form>`;
}

function App() {
  const [guests, setGuests] = useState(null);
  const [error, setError] = useState("");
  const [needLogin, setNeedLogin] = useState(false);
  const [selected, setSelected] = useState("");
  const [log, setLog] = useState("");
  const [events, setEvents] = useState([]);
  const [stat, setStat] = useState([]);
  const [busy, setBusy] = useState("");
  const [cmd, setCmd] = useState("");
  const [output, setOutput] = useState("");
  const [consoleOpen, setConsoleOpen] = useState(false);
  const history = useRef({});

  const refresh = async () => {
    try {
      const g = (await api("GET", "/v1/guests")).result;
      for (const x of g) {
        const hist = (history.current[x.name] ||= []);
        hist.push(x.usage?.memoryBytes ?? 0);
        if (hist.length > HISTORY) hist.shift();
      }
      setGuests(g);
      setStat((await api("GET", "/v1/stat")).result);
      setEvents((await api("GET", "/v1/events?limit=15")).reverse());
      if (selected) setLog(await api("GET", `/v1/guests/${selected}/log?lines=40`));
      setError("");
    } catch (e) {
      if (e.status === 401) setNeedLogin(true);
      else setError(e.message);
    }
  };
  useEffect(() => {
    if (needLogin) return;
    refresh();
    const t = setInterval(refresh, 2000);
    return () => clearInterval(t);
  }, [needLogin, selected]);

  const act = async (name, what) => {
    setBusy(`${what} ${name}`);
    try {
      await api("POST", `/v1/guests/${name}/${what}`);
    } catch (e) {
      setError(e.message);
    }
    setBusy("");
    refresh();
  };

  const run = async (e) => {
    e.preventDefault();
    setOutput("");
    const headers = { "content-type": "application/json" };
    if (token()) headers.authorization = `Bearer ${token()}`;
    const r = await fetch(`/v1/guests/${selected}/exec`, { method: "POST", headers, body: JSON.stringify({ argv: ["sh", "-c", cmd] }) });
    if (!r.ok) return setOutput((await r.json()).error);
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = "", text = "";
    for (;;) {
      const c = await reader.read();
      if (c.done) break;
      buf += dec.decode(c.value, { stream: true });
      const lines = buf.split("\n");
      buf = lines.pop();
      for (const l of lines) {
        const o = JSON.parse(l);
        text += o.stdout ?? o.stderr ?? ("exit" in o ? `[exit ${o.exit}]\n` : `[${o.error ?? o.warning}]\n`);
      }
      setOutput(text);
    }
  };

  if (needLogin) return html`<${Login} onDone=${() => setNeedLogin(false)} />`;
  if (!guests) return html`<p>Loading…</p>${error && html`<p class="error">${error}</p>`}`;
  return html`
    <h1>vserver guests</h1>
    ${error && html`<p class="error" id="error">${error}</p>`}
    ${busy && html`<p id="busy">${busy}…</p>`}
    <table id="guests">
      <thead><tr><th>guest</th><th>state</th><th>context</th><th>processes</th><th>memory</th><th>limit</th><th>CPU s</th><th>memory, last 2 min</th><th></th></tr></thead>
      <tbody>${guests.map((g) => html`
        <tr data-guest=${g.name}>
          <td><a href="#" onClick=${(e) => { e.preventDefault(); setConsoleOpen(false); setSelected(g.name); }}>${g.name}</a></td>
          <td class=${g.running ? "running state" : "stopped state"}>${g.error ? "broken" : g.running ? "running" : "stopped"}</td>
          <td class="num">${g.context ?? ""}</td>
          <td class="num">${g.usage?.pids ?? g.processes ?? ""}</td>
          <td class="num">${mib(g.usage?.memoryBytes)}</td>
          <td class="num">${mib(g.usage?.memoryLimitBytes)}</td>
          <td class="num">${g.usage?.cpuSeconds?.toFixed(2) ?? ""}</td>
          <td><${Spark} values=${history.current[g.name] || []} /></td>
          <td>
            <button class="start" disabled=${g.running || !!busy} onClick=${() => act(g.name, "start")}>start</button>
            <button class="stop" disabled=${!g.running || !!busy} onClick=${() => act(g.name, "stop")}>stop</button>
            <button class="restart" disabled=${!!busy} onClick=${() => act(g.name, "restart")}>restart</button>
          </td>
        </tr>`)}
      </tbody>
    </table>
    ${selected && html`
      <h2>${selected}</h2>
      <form id="exec" onSubmit=${run}><input id="cmd" size="50" value=${cmd} onInput=${(e) => setCmd(e.target.value)} placeholder="command to run in the guest" /> <button type="submit">run</button></form>
      ${output && html`<pre id="output">${output}</pre>`}
      ${consoleOpen ? html`<${Console} name=${selected} onClose=${() => setConsoleOpen(false)} />` : html`<button id="open-console" onClick=${() => setConsoleOpen(true)}>console (enter)</button>`}
      <h2>log</h2><pre id="log">${log}</pre>`}
    <h2>vserver-stat</h2>
    <table id="stat"><thead><tr><th>CTX</th><th>PROC</th><th>RSS</th><th>user s</th><th>sys s</th><th>uptime s</th><th>NAME</th></tr></thead>
      <tbody>${stat.map((s) => html`<tr><td class="num">${s.context}</td><td class="num">${s.processes}</td><td class="num">${mib(s.rss)}</td><td class="num">${s.userSeconds}</td><td class="num">${s.sysSeconds}</td><td class="num">${Math.round(s.uptimeSeconds)}</td><td>${s.name || (s.context === 0 ? "root server" : "")}</td></tr>`)}</tbody></table>
    <h2>events</h2>
    <table id="events"><tbody>${events.map((e) => html`<tr><td>${e.time}</td><td>${e.op}</td><td>${e.guest ?? ""}</td><td>${e.ok ? "ok" : e.error}</td></tr>`)}</tbody></table>
  `;
}

render(html`<${App} />`, document.getElementById("app"));
