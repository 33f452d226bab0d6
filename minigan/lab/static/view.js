// minigan lab: the layered view on #canvas. Each layer can be switched off (the checkboxes).
// A frame (from the server, frames.py) holds, for 2-D data in the view [low, high]^2:
//   heatmap  [cells][cells] D(x), row 0 at the bottom     manifold [rows][cols][2] G on a z-grid
//   fakes    [n][2] G(z), fixed z                          arrows   [n_arrows][2] -grad_x of G's loss
//   reals    [n][2] x ~ p_data (only when the data changed: kept here)
// For 1-D data (a strip) every point has one coordinate.
"use strict";

const LabView = {
  reals: [], centres: [], frame: null,

  // data coordinates -> canvas pixels (y up)
  px(canvas, view, x) { return (x - view[0]) / (view[1] - view[0]) * canvas.width; },
  py(canvas, view, y) { return canvas.height - (y - view[0]) / (view[1] - view[0]) * canvas.height; },

  // D(x) in [0, 1] -> a colour: purple (near 0, "fake") through white (1/2) to green (near 1, "real")
  colour(d) {
    const t = Math.max(-1, Math.min(1, 2 * d - 1));
    const [r, g, b] = t >= 0 ? [102, 187, 106] : [149, 117, 205];
    const a = Math.abs(t);
    return [255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a];
  },

  // highlight: the layers a box of the model graph stands for (hovered, or computed in slow motion);
  // the rest of the view is washed out and those layers drawn again on top
  highlight: null, only: null,
  layer(name) { return document.getElementById("layer-" + name).checked && (!this.only || this.only.includes(name)); },

  draw(canvas, frame) {
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (frame.reals) { this.reals = frame.reals; this.centres = frame.centres || []; }
    this.frame = frame;
    const all = () => (frame.dim === 1 ? this.drawStrip(canvas, ctx, frame) : this.drawPlane(canvas, ctx, frame));
    all();
    if (this.highlight && this.highlight.length) {
      ctx.fillStyle = "rgba(255,255,255,0.7)"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      this.only = this.highlight; all(); this.only = null;
    }
  },

  drawPlane(canvas, ctx, f) {
    const v = f.view, X = (x) => this.px(canvas, v, x), Y = (y) => this.py(canvas, v, y);
    if (this.layer("heatmap")) this.drawHeatmap(canvas, ctx, f.heatmap);
    // bottom to top: the data as small dots, G's samples over them (see-through), modes as thin rings
    if (this.layer("reals")) this.dots(ctx, this.reals.map((p) => [X(p[0]), Y(p[1])]), "rgba(38,50,56,0.45)", 1.4);
    if (this.layer("manifold")) {
      ctx.strokeStyle = "rgba(0,0,0,0.35)"; ctx.lineWidth = 1;
      const rows = f.manifold, cols = rows[0].map((_, j) => rows.map((row) => row[j]));
      ctx.beginPath();
      for (const line of rows.concat(rows.length > 1 ? cols : [])) {   // both families of grid lines
        line.forEach((p, i) => (i ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1]))));
      }
      ctx.stroke();
    }
    if (this.layer("fakes")) this.dots(ctx, f.fakes.map((p) => [X(p[0]), Y(p[1])]), "rgba(239,108,0,0.6)", 2.2);
    if (this.layer("reals") && this.centres.length) {      // outlines only: they hide no sample
      ctx.strokeStyle = "rgba(0,0,0,0.55)"; ctx.lineWidth = 0.8;
      ctx.beginPath();
      for (const c of this.centres) { const x = X(c[0]), y = Y(c[1]); ctx.moveTo(x + 7, y); ctx.arc(x, y, 7, 0, 2 * Math.PI); }
      ctx.stroke();
    }
    if (this.layer("arrows")) {
      const scale = this.arrowScale(f.arrows);
      const from = f.fakes.slice(0, f.arrows.length).map((p) => [X(p[0]), Y(p[1])]);
      this.arrows(ctx, from, f.arrows.map((a) => [a[0] * scale, -a[1] * scale]));
    }
  },

  drawStrip(canvas, ctx, f) {
    // x runs left to right; reals at 30% height, fakes at 55%, the z line at the bottom
    const v = f.view, X = (x) => this.px(canvas, v, x), H = canvas.height;
    if (this.layer("heatmap")) {
      const w = canvas.width / f.heatmap.length;
      f.heatmap.forEach((d, j) => { const [r, g, b] = this.colour(d); ctx.fillStyle = `rgb(${r},${g},${b})`;
                                     ctx.fillRect(j * w, 0, w + 1, H); });
    }
    const jitter = (i) => ((i * 7919) % 97) / 97 - 0.5;          // a fixed spread, so dots do not pile up
    if (this.layer("reals")) this.dots(ctx, this.reals.map((p, i) => [X(p[0]), H * (0.3 + 0.12 * jitter(i))]), "rgba(38,50,56,0.55)", 2);
    if (this.layer("manifold")) {                                 // z (bottom) -> G(z) (the fakes' band)
      const line = f.manifold[0], n = line.length;
      ctx.strokeStyle = "rgba(0,0,0,0.3)";
      line.forEach((p, j) => { ctx.beginPath(); ctx.moveTo(canvas.width * (j + 0.5) / n, H * 0.92);
                               ctx.lineTo(X(p[0]), H * 0.58); ctx.stroke(); });
      ctx.fillStyle = "#333"; ctx.fillText("z-grid", 4, H * 0.97);
    }
    if (this.layer("fakes")) this.dots(ctx, f.fakes.map((p, i) => [X(p[0]), H * (0.55 + 0.1 * jitter(i))]), "rgba(239,108,0,0.75)", 2.2);
    if (this.layer("arrows")) {
      const scale = this.arrowScale(f.arrows);
      const from = f.fakes.slice(0, f.arrows.length).map((p, i) => [X(p[0]), H * (0.55 + 0.1 * jitter(i))]);
      this.arrows(ctx, from, f.arrows.map((a) => [a[0] * scale, 0]));
    }
  },

  drawHeatmap(canvas, ctx, heat) {
    const n = heat.length, image = new ImageData(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      const [r, g, b] = this.colour(heat[i][j]), k = 4 * ((n - 1 - i) * n + j);   // row 0 is the bottom
      image.data[k] = r; image.data[k + 1] = g; image.data[k + 2] = b; image.data[k + 3] = 255;
    }
    if (!this.small) { this.small = document.createElement("canvas"); }
    this.small.width = n; this.small.height = n;
    this.small.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.small, 0, 0, canvas.width, canvas.height);
  },

  dots(ctx, points, colour, radius) {      // one path, one fill: hundreds of fills cost the browser a core
    ctx.fillStyle = colour;
    ctx.beginPath();
    for (const [x, y] of points) { ctx.moveTo(x + radius, y); ctx.arc(x, y, radius, 0, 2 * Math.PI); }
    ctx.fill();
  },

  // the longest arrow is drawn 8% of the view wide: the direction and the relative size are what matter
  arrowScale(arrows) {
    const longest = Math.max(1e-12, ...arrows.map((a) => Math.hypot(...a)));
    return 0.08 * (this.frame.view[1] - this.frame.view[0]) / longest;   // data units per unit of gradient
  },

  arrows(ctx, from, delta) {
    const v = this.frame.view, unit = ctx.canvas.width / (v[1] - v[0]);
    ctx.strokeStyle = "rgba(21,101,192,0.85)"; ctx.lineWidth = 1.3;
    ctx.beginPath();
    from.forEach(([x, y], i) => {
      const dx = delta[i][0] * unit, dy = delta[i][1] * unit, ex = x + dx, ey = y + dy, a = Math.atan2(dy, dx);
      ctx.moveTo(x, y); ctx.lineTo(ex, ey);                                        // the shaft, then the head
      ctx.lineTo(ex - 5 * Math.cos(a - 0.4), ey - 5 * Math.sin(a - 0.4)); ctx.moveTo(ex, ey);
      ctx.lineTo(ex - 5 * Math.cos(a + 0.4), ey - 5 * Math.sin(a + 0.4));
    });
    ctx.stroke();
  },

  // canvas pixels -> data coordinates (for drawing your own data)
  toData(canvas, view, px, py) {
    return [view[0] + px / canvas.width * (view[1] - view[0]), view[0] + (1 - py / canvas.height) * (view[1] - view[0])];
  },
};
