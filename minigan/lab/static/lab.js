// minigan lab: the page's logic. One WebSocket to the server (token in the address); the
// buttons and fields send commands, the server sends settings, frames, errors and "saved".
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN = new URLSearchParams(location.search).get("token") || "";
const lab = {
  socket: null, settings: null, frame: null, fresh: false, points: [],
  latest: {},                              // the newest of each number, for the overview
  stats: { framesReceived: 0, framesShown: 0, shownTimes: [], states: [] },   // read by tests and benchmarks/lab.py
  hovered: null,                           // the model graph's box under the mouse
};
window.lab = lab;

function send(command) {
  if (lab.socket && lab.socket.readyState === WebSocket.OPEN) lab.socket.send(JSON.stringify(command));
}

function say(text, error = false) { $("message").textContent = text; $("message").className = error ? "error" : ""; }

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/ws?token=${encodeURIComponent(TOKEN)}`);
  lab.socket = socket;
  socket.onopen = () => { $("connection").textContent = "connected"; $("connection").className = "badge on"; };
  socket.onclose = () => { $("connection").textContent = "disconnected: is the lab still running?"; $("connection").className = "badge"; };
  socket.onmessage = (event) => receive(JSON.parse(event.data));
}

function receive(message) {
  if (message.type === "frame") {
    lab.stats.framesReceived++;
    if (message.overview) lab.overview = message.overview;
    for (const r of message.records) Object.assign(lab.latest, r);
    if (message.history) {                   // a new page (or a reload): the charts so far, this frame's included
      LabCharts.series = message.history; lab.run = message.run;
    } else {
      if (message.run !== lab.run) { LabCharts.clear(); lab.run = message.run; }   // a new run: charts start again
      LabCharts.addRecords(message.records);
      if (message.modes) {
        LabCharts.add("modes", message.step, message.modes[0] / message.modes[1]);
        LabCharts.add("hq", message.step, message.high_quality);
      }
      if (message.js !== undefined) LabCharts.add("js", message.step, message.js);
    }
    if (message.modes) {
      $("modes").textContent = `${message.modes[0]}/${message.modes[1]}`;
      $("hq").textContent = message.high_quality.toFixed(2);
    }
    if (message.js !== undefined) $("js").textContent = message.js.toFixed(3);
    showPlaying(message.playing, message.slow);
    lab.frame = message; lab.fresh = true;
  } else if (message.type === "state") {   // a click answered at once ("queued", or pause acted on), or the worker's news
    lab.stats.states.push({ time: performance.now(), playing: message.playing, step: message.step, queued: message.queued });
    showPlaying(message.playing, message.slow);
    if (message.queued) {                  // the worker runs it next; say so only if that takes a while
      if (message.waits) say(`${message.queued}: runs after the update under way (about ${message.update_seconds.toFixed(1)} s at these settings)`);
    } else if (!message.playing) {
      const wait = message.update_seconds > 0.2 ? ` (the update under way finishes first: about ${message.update_seconds.toFixed(1)} s)` : "";
      say(`paused at iteration ${message.step}${wait}`);
    }
  } else if (message.type === "settings") {
    showSettings(message);
  } else if (message.type === "saved") {
    say(`saved: ${message.folder} (gan.resume loads its checkpoint.npz)`);
  } else if (message.type === "error") {
    say(message.message, true);
    $("play").classList.remove("active");
  }
}

function showPlaying(playing, slow) {
  if (playing === undefined) return;
  $("play").classList.toggle("active", playing);
  $("slow").checked = !!slow;
  lab.playing = playing;
}

// the view's highlight: the layers of the box under the mouse, else (slow motion) of the boxes being computed
function highlight(frame) {
  if (lab.hovered) return LabCharts.BOXES.find((b) => b.name === lab.hovered).layers;
  if (!frame || !frame.slow || !frame.phase) return null;
  return LabCharts.BOXES.filter((b) => LabCharts.lit(frame.phase).includes(b.name)).flatMap((b) => b.layers);
}

// draw the newest frame once per screen refresh (a frame that arrived between two is skipped)
function animate() {
  if (lab.fresh) {
    lab.fresh = false;
    const f = lab.frame;
    LabView.highlight = highlight(f);
    LabView.draw($("canvas"), f);
    lab.chartsStale = true;
    if (lab.overview) LabCharts.overview($("overview"), lab.overview, f, lab.latest, lab.hovered);
    $("step").textContent = String(f.step);
    const now = performance.now(), times = lab.stats.shownTimes;
    lab.stats.framesShown++; times.push(now);
    while (times.length && times[0] < now - 1000) times.shift();
    $("fps").textContent = String(times.length);
  }
  const now = performance.now();      // the charts are redrawn 10 times a second at most: they change slowly
  if (lab.chartsStale && (now - (lab.chartsDrawn || 0) >= 100 || (lab.frame && lab.frame.phase))) {
    LabCharts.drawAll(); lab.chartsDrawn = now; lab.chartsStale = false;
  }
  requestAnimationFrame(animate);
}

// ---- the settings ---------------------------------------------------------------------------
const FIELDS = { "lr-d": "lr_d", "lr-g": "lr_g", optimizer: "optimizer", loss: "loss", k: "k", m: "m",
                 noise: "noise", "noise-dim": "noise_dim", "g-hidden": "g_hidden", "d-hidden": "d_hidden", seed: "seed" };

function fill(select, options) {
  if (select.options.length === options.length) return;
  select.innerHTML = "";
  for (const o of options) { const e = document.createElement("option"); e.value = o; e.textContent = o; select.appendChild(e); }
}

function showSettings(message) {
  const s = message.settings;
  // the page owns the drawn points while it draws them: take the server's only for a new page or new data
  if (!lab.settings || lab.settings.dataset !== s.dataset) lab.points = s.points.slice();
  lab.settings = s;
  fill($("dataset"), message.options.dataset); fill($("optimizer"), message.options.optimizer);
  fill($("loss"), message.options.loss); fill($("noise"), message.options.noise);
  $("dataset").value = s.dataset;
  for (const [id, name] of Object.entries(FIELDS)) {
    if (document.activeElement === $(id)) continue;     // do not overwrite what is being typed
    $(id).value = Array.isArray(s[name]) ? s[name].join(",") : s[name];
  }
  $("draw-help").hidden = s.dataset !== "drawn";
  $("strip-legend").hidden = s.dataset !== "gaussian1d";
  $("python-code").textContent = message.code;
}

function value(id) {
  const text = $(id).value.trim();
  if (id === "g-hidden" || id === "d-hidden") {        // "128,128" -> [128, 128]; anything else as typed
    const widths = text === "" ? [] : text.split(",").map((w) => Number(w.trim()));
    return widths.every(Number.isInteger) ? widths : text;
  }
  if ($(id).type === "number") return Number(text);
  return text;
}

// ---- drawing your own data --------------------------------------------------------------------
let drawing = false, lastX = 0, lastY = 0;   // a drag places a point every 6 pixels
function place(event) {
  if (!lab.settings || lab.settings.dataset !== "drawn") return;
  const canvas = $("canvas"), rect = canvas.getBoundingClientRect();
  const view = lab.frame ? lab.frame.view : [-3, 3];
  lastX = event.clientX; lastY = event.clientY;
  const p = LabView.toData(canvas, view, (event.clientX - rect.left) * canvas.width / rect.width,
                           (event.clientY - rect.top) * canvas.height / rect.height);
  lab.points.push([Math.round(p[0] * 1000) / 1000, Math.round(p[1] * 1000) / 1000]);
  const ctx = canvas.getContext("2d"); ctx.fillStyle = "#263238";
  ctx.beginPath(); ctx.arc(event.clientX - rect.left, event.clientY - rect.top, 3, 0, 2 * Math.PI); ctx.fill();
}
function sendPoints() { send({ cmd: "set", name: "points", value: lab.points }); }

// ---- wiring ---------------------------------------------------------------------------------
function wire() {
  $("play").onclick = () => { send({ cmd: "play" }); $("play").classList.add("active"); };
  $("pause").onclick = () => { send({ cmd: "pause" }); $("play").classList.remove("active"); };
  for (const id of ["step-d", "step-g", "step-iter", "reset"]) {
    $(id).onclick = () => { send({ cmd: id }); $("play").classList.remove("active"); };
  }
  $("save").onclick = () => { say("saving…"); send({ cmd: "save" }); };
  $("slow").onchange = () => send({ cmd: "slow", value: $("slow").checked });
  const graph = $("overview");                 // the graph's boxes: hover to see what each is, and its layers lit
  graph.onmousemove = (e) => {
    const rect = graph.getBoundingClientRect();
    const box = LabCharts.boxAt((e.clientX - rect.left) * graph.width / rect.width, (e.clientY - rect.top) * graph.height / rect.height);
    const name = box ? box.name : null;
    if (name === lab.hovered) return;
    lab.hovered = name; lab.fresh = !!lab.frame;
    graph.title = box ? box.help : "the model: hover a box to see what it is and light its layers in the view";
    $("explain").textContent = box ? box.help : "";
  };
  graph.onmouseleave = () => { lab.hovered = null; lab.fresh = !!lab.frame; $("explain").textContent = ""; };
  $("show-python").onclick = () => { $("python").hidden = !$("python").hidden; };
  $("dataset").onchange = () => send({ cmd: "dataset", value: $("dataset").value });
  for (const [id, name] of Object.entries(FIELDS)) $(id).onchange = () => { say(""); send({ cmd: "set", name, value: value(id) }); };
  for (const name of ["reals", "fakes", "heatmap", "manifold", "arrows"]) $("layer-" + name).onchange = () => { lab.fresh = !!lab.frame; };
  const canvas = $("canvas");
  canvas.onmousedown = (e) => { drawing = true; place(e); };
  canvas.onmousemove = (e) => { if (drawing && Math.hypot(e.clientX - lastX, e.clientY - lastY) >= 6) place(e); };
  window.addEventListener("mouseup", () => { if (drawing) { drawing = false; sendPoints(); } });
  $("clear-points").onclick = () => { lab.points = []; sendPoints(); };
}

wire();
connect();
requestAnimationFrame(animate);
