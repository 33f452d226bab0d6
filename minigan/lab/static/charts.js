// minigan lab: the model overview (z -> G -> x~ -> D -> D(.)) and the charts over training.
// Each chart keeps its series as [x, y] pairs, x the iteration; past MAX_POINTS every other one goes.
"use strict";

const MAX_POINTS = 3000;
const LOG4 = Math.log(4), LOG2 = Math.log(2);

const LabCharts = {
  series: {},

  clear() { this.series = {}; },

  add(name, x, y) {
    if (y === undefined || y === null || !isFinite(y)) return;
    const s = this.series[name] || (this.series[name] = []);
    s.push([x, y]);
    if (s.length > MAX_POINTS) this.series[name] = s.filter((_, i) => i % 2 === 0);
  },

  // the records of one frame: iterations, and single D or G updates (slow motion)
  addRecords(records) {
    for (const r of records) {
      if (r.d_loss !== undefined) { this.add("d_loss", r.step, r.d_loss); this.add("value", r.step, r.value);
                                    this.add("d_real", r.step, r.d_real); this.add("d_fake", r.step, r.d_fake); }
      if (r.g_loss !== undefined) this.add("g_loss", r.step, r.g_loss);
    }
  },

  // one chart: its series (name, colour, label), optional horizontal lines [y, label]
  chart(canvas, title, lines, guides = [], range = null) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, L = 34, T = 14, B = 12;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#222"; ctx.font = "11px system-ui"; ctx.fillText(title, 4, 11);
    const all = lines.flatMap(([name]) => this.series[name] || []);
    if (!all.length) return;
    let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
    let [y0, y1] = range || [Math.min(...all.map((p) => p[1]), ...guides.map((g) => g[0])),
                             Math.max(...all.map((p) => p[1]), ...guides.map((g) => g[0]))];
    if (x1 === x0) x1 = x0 + 1;
    if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
    const X = (x) => L + (x - x0) / (x1 - x0) * (W - L - 6), Y = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
    ctx.fillStyle = "#666"; ctx.fillText(y1.toFixed(2), 2, T + 8); ctx.fillText(y0.toFixed(2), 2, H - B);
    ctx.fillText(String(x1), W - 40, H - 1);
    for (const [y] of guides) {          // the reference lines under the curves ...
      ctx.strokeStyle = "#999"; ctx.setLineDash([4, 3]); ctx.beginPath(); ctx.moveTo(L, Y(y)); ctx.lineTo(W - 6, Y(y));
      ctx.stroke(); ctx.setLineDash([]);
    }
    let legend = 16 + ctx.measureText(title).width;
    for (const [name, colour, label] of lines) {
      const s = this.series[name] || [];
      ctx.strokeStyle = colour; ctx.lineWidth = 1.2; ctx.beginPath();
      s.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
      ctx.stroke();
      ctx.fillStyle = colour; ctx.fillText(label, legend, 11); legend += ctx.measureText(label).width + 12;
    }
    for (const [y, label] of guides) {   // ... their labels over them, on a patch of their own: no curve hides one
      const w = ctx.measureText(label).width + 6, x = W - 8 - w, top = Math.max(T, Math.min(H - B - 12, Y(y) - 13));
      ctx.fillStyle = "rgba(255,255,255,0.9)"; ctx.fillRect(x, top, w, 12);
      ctx.fillStyle = "#555"; ctx.fillText(label, x + 3, top + 10);
      this.labels.push({ chart: canvas.id, label, x, y: top, w, h: 12 });
    }
  },

  // where each reference label was drawn (tests read it: no curve may cross one)
  labels: [],

  drawAll() {
    this.labels = [];
    this.chart(document.getElementById("chart-losses"), "losses",
               [["d_loss", "#2e7d32", "D's loss"], ["g_loss", "#ef6c00", "G's loss"]]);
    this.chart(document.getElementById("chart-value"), "V(D, G)", [["value", "#1565c0", "V"]], [[-LOG4, "−log 4"]]);
    this.chart(document.getElementById("chart-d"), "mean D", [["d_real", "#2e7d32", "D(x)"], ["d_fake", "#ef6c00", "D(G(z))"]],
               [[0.5, "1/2"]], [0, 1]);
    this.chart(document.getElementById("chart-modes"), "modes",
               [["modes", "#6a1b9a", "modes covered"], ["hq", "#00838f", "high-quality fraction"]], [], [0, 1]);
    this.chart(document.getElementById("chart-js"), "JS divergence (nats)", [["js", "#c62828", "JSD(p_data ‖ p_g)"]],
               [[LOG2, "log 2"]], [0, LOG2 * 1.05]);
  },

  // The model graph's boxes: where each is drawn, what it is, and the layers of the view it stands for
  // (hovering a box highlights them; in slow motion the box being computed is lit).
  BOXES: [
    { name: "z", at: [4, 20, 54, 40], layers: ["manifold"],
      help: "z ~ p_z: the noise G starts from. The view's grid lines are G applied to a grid of z values." },
    { name: "G", at: [84, 20, 80, 40], layers: ["fakes", "manifold"],
      help: "G, the generator: its layer widths. It maps each z to a point x̃ = G(z): the orange dots." },
    { name: "x̃", at: [190, 20, 54, 40], layers: ["fakes", "arrows"],
      help: "x̃ = G(z), the fakes (orange). The blue arrows show where G's loss pushes each one." },
    { name: "x", at: [4, 90, 54, 40], layers: ["reals"],
      help: "x ~ p_data, the real samples (dark dots; rings mark the modes)." },
    { name: "D", at: [270, 50, 80, 40], layers: ["heatmap"],
      help: "D, the discriminator: its layer widths. The background is D(x) at every point: green real, purple fake." },
    { name: "D(·)", at: [368, 50, 48, 40], layers: ["heatmap"],
      help: "D(·) = sigmoid(D's logit): the probability D gives that its input is real." },
  ],

  // which boxes a phase lights: the sample drawn (z and x), a D update, the G update
  lit(phase) {
    return { sample: ["z", "x"], D: ["D", "D(·)"], G: ["G", "x̃"], iteration: ["G", "D"] }[phase] || [];
  },

  boxAt(px, py) {
    return this.BOXES.find(({ at: [x, y, w, h] }) => px >= x && px <= x + w && py >= y && py <= y + h) || null;
  },

  // z -> G -> x~ -> D -> D(.), and x -> D; the box being computed (step or slow motion) is highlighted
  overview(canvas, o, frame, latest, hovered = null) {
    const ctx = canvas.getContext("2d"), W = canvas.width;
    ctx.clearRect(0, 0, W, canvas.height);
    ctx.font = "12px system-ui"; ctx.textAlign = "center";
    const phase = frame.phase, lit = this.lit(phase);
    const subs = { z: `${o.noise} ${o.noise_dim}-D`, G: o.g_layers.join("→"), "x̃": `${o.dim}-D`, x: "p_data",
                   D: o.d_layers.join("→"), "D(·)": "sigmoid" };
    for (const { name, at: [x, y, w, h] } of this.BOXES) {
      const on = lit.includes(name), over = hovered === name;
      ctx.fillStyle = on ? "#fff59d" : over ? "#e3f2fd" : "#eceff1";
      ctx.strokeStyle = on ? "#f57f17" : over ? "#1565c0" : "#90a4ae"; ctx.lineWidth = on || over ? 3 : 1;
      ctx.fillRect(x, y, w, h); ctx.strokeRect(x, y, w, h);
      ctx.fillStyle = "#222"; ctx.fillText(name === "x̃" ? "x̃ = G(z)" : name, x + w / 2, y + h / 2 - 2);
      ctx.fillStyle = "#555"; ctx.font = "10px system-ui"; ctx.fillText(subs[name], x + w / 2, y + h / 2 + 11); ctx.font = "12px system-ui";
    }
    const arrow = (x0, y0, x1, y1) => { ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.beginPath(); ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1); ctx.lineTo(x1 - 6, y1 - 4); ctx.moveTo(x1, y1); ctx.lineTo(x1 - 6, y1 + 4); ctx.stroke(); };
    arrow(58, 40, 84, 40); arrow(164, 40, 190, 40); arrow(244, 40, 270, 62); arrow(58, 110, 270, 80); arrow(350, 70, 368, 70);
    ctx.textAlign = "left"; ctx.fillStyle = "#222";
    const f = (v) => (v === undefined || v === null ? "–" : v.toFixed(3));   // null: not finite (diverged)
    ctx.fillText(`D's loss ${f(latest.d_loss)}   G's loss ${f(latest.g_loss)}   D(x) ${f(latest.d_real)}   D(G(z)) ${f(latest.d_fake)}`, 4, 146);
    const words = { D: "updated: D", G: "updated: G", iteration: "updated: D, then G", sample: "sampled: z ~ p_z, x ~ p_data" };
    ctx.fillText(words[phase] || "", 236, 14);
  },
};
