// minigan lab: the model overview (z -> G -> x~ -> D -> D(.)) and the charts over training.
// Each chart keeps its series as [x, y] pairs, x the iteration; past MAX_POINTS every other one goes.
"use strict";

const MAX_POINTS = 3000;
const LOG4 = Math.log(4);

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
    for (const [y, label] of guides) {
      ctx.strokeStyle = "#999"; ctx.setLineDash([4, 3]); ctx.beginPath(); ctx.moveTo(L, Y(y)); ctx.lineTo(W - 6, Y(y));
      ctx.stroke(); ctx.setLineDash([]); ctx.fillText(label, L + 4, Y(y) - 2);
    }
    let legend = 16 + ctx.measureText(title).width;
    for (const [name, colour, label] of lines) {
      const s = this.series[name] || [];
      ctx.strokeStyle = colour; ctx.lineWidth = 1.2; ctx.beginPath();
      s.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
      ctx.stroke();
      ctx.fillStyle = colour; ctx.fillText(label, legend, 11); legend += ctx.measureText(label).width + 12;
    }
  },

  drawAll() {
    this.chart(document.getElementById("chart-losses"), "losses",
               [["d_loss", "#2e7d32", "D's loss"], ["g_loss", "#ef6c00", "G's loss"]]);
    this.chart(document.getElementById("chart-value"), "V(D, G)", [["value", "#1565c0", "V"]], [[-LOG4, "−log 4"]]);
    this.chart(document.getElementById("chart-d"), "mean D", [["d_real", "#2e7d32", "D(x)"], ["d_fake", "#ef6c00", "D(G(z))"]],
               [[0.5, "1/2"]], [0, 1]);
    this.chart(document.getElementById("chart-modes"), "modes",
               [["modes", "#6a1b9a", "modes covered"], ["hq", "#00838f", "high-quality fraction"]], [], [0, 1]);
  },

  // z -> G -> x~ -> D -> D(.), and x -> D; the network just updated (step mode) is highlighted
  overview(canvas, o, frame, latest) {
    const ctx = canvas.getContext("2d"), W = canvas.width;
    ctx.clearRect(0, 0, W, canvas.height);
    ctx.font = "12px system-ui"; ctx.textAlign = "center";
    const phase = frame.phase;
    const box = (x, y, w, h, label, sub, on) => {
      ctx.fillStyle = on ? "#fff59d" : "#eceff1"; ctx.strokeStyle = on ? "#f57f17" : "#90a4ae"; ctx.lineWidth = on ? 3 : 1;
      ctx.fillRect(x, y, w, h); ctx.strokeRect(x, y, w, h);
      ctx.fillStyle = "#222"; ctx.fillText(label, x + w / 2, y + h / 2 - 2);
      ctx.fillStyle = "#555"; ctx.font = "10px system-ui"; ctx.fillText(sub, x + w / 2, y + h / 2 + 11); ctx.font = "12px system-ui";
    };
    const arrow = (x0, y0, x1, y1) => { ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.beginPath(); ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1); ctx.lineTo(x1 - 6, y1 - 4); ctx.moveTo(x1, y1); ctx.lineTo(x1 - 6, y1 + 4); ctx.stroke(); };
    const g = phase === "G" || phase === "iteration", d = phase === "D" || phase === "iteration";
    box(4, 20, 54, 40, "z", `${o.noise} ${o.noise_dim}-D`, false);
    box(84, 20, 80, 40, "G", o.g_layers.join("→"), g);
    box(190, 20, 54, 40, "x̃ = G(z)", `${o.dim}-D`, false);
    box(4, 90, 54, 40, "x", "p_data", false);
    box(270, 50, 80, 40, "D", o.d_layers.join("→"), d);
    box(368, 50, 48, 40, "D(·)", "sigmoid", false);
    arrow(58, 40, 84, 40); arrow(164, 40, 190, 40); arrow(244, 40, 270, 62); arrow(58, 110, 270, 80); arrow(350, 70, 368, 70);
    ctx.textAlign = "left"; ctx.fillStyle = "#222";
    const f = (v) => (v === undefined || v === null ? "–" : v.toFixed(3));   // null: not finite (diverged)
    ctx.fillText(`D's loss ${f(latest.d_loss)}   G's loss ${f(latest.g_loss)}   D(x) ${f(latest.d_real)}   D(G(z)) ${f(latest.d_fake)}`, 4, 146);
    ctx.fillText(phase === "D" ? "updated: D" : phase === "G" ? "updated: G" : phase === "iteration" ? "updated: D, then G" : "", 250, 14);
  },
};
