"use strict";
// latentwalk's latent explorer: decodes latents in the page with the run's own decoder (no server, no network).
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const PALETTE = ["#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499", "#777777"];

  function f32(text) {
    const bin = atob(text);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }

  const d = D.dim, C = D.image[0], H = D.image[1], W = D.image[2], N = D.points.n;
  const XY = f32(D.points.xy), MU = f32(D.points.mu), LABELS = f32(D.points.labels);
  const PC3 = D.points.pc3 ? f32(D.points.pc3) : null;
  const LAYERS = D.decoder ? D.decoder.map((layer) => (layer.w ? Object.assign({}, layer, { W: f32(layer.w), B: f32(layer.b) }) : layer)) : null;
  // A decoder the page cannot run: images decoded by torch at fixed latents (the self-test's probes exactly, in
  // float32; the points, a grid over the plane and the paths' steps as bytes), the nearest one shown.
  const PRE = D.predecoded ? { k: D.predecoded.k, z: f32(D.predecoded.z), images: Uint8Array.from(atob(D.predecoded.images), (c) => c.charCodeAt(0)) } : null;
  const PROBES = { z: f32(D.selftest.z), images: f32(D.selftest.images) };
  const PATHS = D.paths.map((p) => Object.assign({}, p, { Z: f32(p.z), P: f32(p.xy) }));
  const MEAN = D.pca.mean, COMPONENTS = D.pca.components;

  // ------------------------------------------------------------------ the decoder (float64 arithmetic)
  function nearest(Z, k, z) {
    let best = 0, bestD = Infinity;
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < d && s < bestD; j++) { const v = Z[i * d + j] - z[j]; s += v * v; }
      if (s < bestD) { bestD = s; best = i; }
    }
    return [best, bestD];
  }
  function lookup(z) {
    const P = C * H * W, [p, pd] = nearest(PROBES.z, D.selftest.k, z);
    if (pd === 0) return PROBES.images.slice(p * P, (p + 1) * P);
    const [i] = nearest(PRE.z, PRE.k, z), out = new Float32Array(P);
    for (let q = 0; q < P; q++) out[q] = PRE.images[i * P + q] / 255;
    return out;
  }
  function decode(z) {
    if (!LAYERS) return lookup(z);
    let x = Float64Array.from(z);
    let shape = [x.length];
    for (const L of LAYERS) {
      if (L.op === "linear") {
        const y = new Float64Array(L.out), n = L.in, w = L.W;
        for (let o = 0; o < L.out; o++) {
          let s = L.B[o];
          const base = o * n;
          for (let i = 0; i < n; i++) s += w[base + i] * x[i];
          y[o] = s;
        }
        x = y;
        shape = [L.out];
      } else if (L.op === "relu") {
        for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] = 0;
      } else if (L.op === "leaky") {
        for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] *= L.slope;
      } else if (L.op === "sigmoid") {
        for (let i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-x[i]));
      } else if (L.op === "clamp") {
        for (let i = 0; i < x.length; i++) x[i] = Math.min(L.max, Math.max(L.min, x[i]));
      } else if (L.op === "upsample2") {
        const c = shape[0], h = shape[1], w = shape[2], y = new Float64Array(c * h * w * 4);
        for (let ch = 0; ch < c; ch++)
          for (let oy = 0; oy < 2 * h; oy++)
            for (let ox = 0; ox < 2 * w; ox++) y[(ch * 2 * h + oy) * 2 * w + ox] = x[(ch * h + (oy >> 1)) * w + (ox >> 1)];
        x = y;
        shape = [c, 2 * h, 2 * w];
      } else if (L.op === "conv") {
        const cin = shape[0], h = shape[1], w = shape[2], cout = L.cout, k = L.k, p = k >> 1;
        const y = new Float64Array(cout * h * w);
        for (let co = 0; co < cout; co++) {
          const yb = co * h * w;
          y.fill(L.B[co], yb, yb + h * w);
          for (let ci = 0; ci < cin; ci++) {
            const xb = ci * h * w, wb = (co * cin + ci) * k * k;
            for (let ky = 0; ky < k; ky++) {
              for (let kx = 0; kx < k; kx++) {
                const wv = L.W[wb + ky * k + kx];
                const y0 = Math.max(0, p - ky), y1 = Math.min(h, h + p - ky);
                const x0 = Math.max(0, p - kx), x1 = Math.min(w, w + p - kx);
                for (let oy = y0; oy < y1; oy++) {
                  const row = xb + (oy + ky - p) * w + (kx - p), out = yb + oy * w;
                  for (let ox = x0; ox < x1; ox++) y[out + ox] += wv * x[row + ox];
                }
              }
            }
          }
        }
        x = y;
        shape = [cout, h, w];
      } else if (L.op === "reshape") {
        shape = L.shape.slice();
      } else if (L.op === "convT") {
        const cin = shape[0], h = shape[1], w = shape[2], cout = L.cout, k = L.k, s = L.stride, p = L.pad;
        const ho = (h - 1) * s - 2 * p + k, wo = (w - 1) * s - 2 * p + k;
        const y = new Float64Array(cout * ho * wo);
        for (let co = 0; co < cout; co++) y.fill(L.B[co], co * ho * wo, (co + 1) * ho * wo);
        for (let ci = 0; ci < cin; ci++) {
          for (let iy = 0; iy < h; iy++) {
            for (let ix = 0; ix < w; ix++) {
              const v = x[(ci * h + iy) * w + ix];
              if (v === 0) continue;
              for (let co = 0; co < cout; co++) {
                const wb = (ci * cout + co) * k * k, yb = co * ho * wo;
                for (let ky = 0; ky < k; ky++) {
                  const oy = iy * s - p + ky;
                  if (oy < 0 || oy >= ho) continue;
                  for (let kx = 0; kx < k; kx++) {
                    const ox = ix * s - p + kx;
                    if (ox < 0 || ox >= wo) continue;
                    y[yb + oy * wo + ox] += v * L.W[wb + ky * k + kx];
                  }
                }
              }
            }
          }
        }
        x = y;
        shape = [cout, ho, wo];
      } else {
        throw new Error("unknown decoder layer " + L.op);
      }
    }
    return Float32Array.from(x);
  }

  // ------------------------------------------------------------------ state
  const state = {
    z: Float64Array.from(MU.subarray(0, d)),
    view: null,
    hover: -1,
    path: 0,
    step: 0,
    decodeTimes: [],
    drag: null,
    yaw: 0.6,
    pitch: 0.35,
  };
  const el = (id) => document.getElementById(id);
  const scatter = el("scatter"), ctx = scatter.getContext("2d");
  const decodedCanvas = el("decoded"), decodedCtx = decodedCanvas.getContext("2d");

  function colour(i) {
    const label = LABELS[i];
    if (D.label_kind === "angle") {
      const hue = ((label % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI) / (2 * Math.PI) * 360;
      return "hsl(" + hue.toFixed(1) + ",70%,45%)";
    }
    return PALETTE[Math.abs(Math.round(label)) % PALETTE.length];
  }

  function labelText(value) {
    if (D.label_kind === "angle") return (value * 180 / Math.PI).toFixed(1) + "°";
    if (D.label_names) return D.label_names[Math.round(value)];
    return String(Math.round(value));
  }

  // ------------------------------------------------------------------ plane <-> screen
  function fitView() {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < N; i++) {
      x0 = Math.min(x0, XY[2 * i]); x1 = Math.max(x1, XY[2 * i]);
      y0 = Math.min(y0, XY[2 * i + 1]); y1 = Math.max(y1, XY[2 * i + 1]);
    }
    const span = Math.max(x1 - x0, y1 - y0, 1e-6) * 1.15;
    state.view = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, scale: scatter.width / span };
  }
  const toScreen = (x, y) => [(x - state.view.cx) * state.view.scale + scatter.width / 2,
    (state.view.cy - y) * state.view.scale + scatter.height / 2];
  const toPlane = (sx, sy) => [(sx - scatter.width / 2) / state.view.scale + state.view.cx,
    state.view.cy - (sy - scatter.height / 2) / state.view.scale];

  function pcaCoords(z) {
    const out = [];
    for (const v of COMPONENTS) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (z[j] - MEAN[j]) * v[j];
      out.push(s);
    }
    return out;
  }

  // The plane position of the current latent (exact for d <= 2 and PCA; the base point's for t-SNE and UMAP).
  function planeOf(z) {
    if (d === 1) return [z[0], 0];
    if (d === 2) return [z[0], z[1]];
    if (D.projection === "pca") return pcaCoords(z).slice(0, 2);
    return null;
  }

  function nearestPoint(x, y) {
    let best = -1, bestD = Infinity;
    for (let i = 0; i < N; i++) {
      const dx = XY[2 * i] - x, dy = XY[2 * i + 1] - y, dd = dx * dx + dy * dy;
      if (dd < bestD) { bestD = dd; best = i; }
    }
    return [best, Math.sqrt(bestD)];
  }

  // The latent under a plane point: itself for d <= 2; for PCA the point on the top-2 plane through the current
  // latent's orthogonal complement (the sliders set the other coordinates); for t-SNE and UMAP the nearest point's.
  function latentAt(x, y) {
    const z = Float64Array.from(state.z);
    if (d === 1) { z[0] = x; return z; }
    if (d === 2) { z[0] = x; z[1] = y; return z; }
    if (D.projection === "pca") {
      const now = pcaCoords(z);
      for (let j = 0; j < d; j++) z[j] += (x - now[0]) * COMPONENTS[0][j] + (y - now[1]) * COMPONENTS[1][j];
      return z;
    }
    const i = nearestPoint(x, y)[0];
    return Float64Array.from(MU.subarray(i * d, (i + 1) * d));
  }

  // ------------------------------------------------------------------ drawing
  function drawScatter() {
    ctx.clearRect(0, 0, scatter.width, scatter.height);
    const r = Math.max(1.5, Math.min(4, 2.2 * Math.sqrt(state.view.scale / (scatter.width / 8))));
    for (let i = 0; i < N; i++) {
      const [sx, sy] = toScreen(XY[2 * i], XY[2 * i + 1]);
      if (sx < -5 || sy < -5 || sx > scatter.width + 5 || sy > scatter.height + 5) continue;
      ctx.fillStyle = colour(i);
      ctx.fillRect(sx - r, sy - r, 2 * r, 2 * r);
    }
    const path = PATHS[state.path];
    if (path) {
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (let k = 0; k < path.steps; k++) {
        const [sx, sy] = toScreen(path.P[2 * k], path.P[2 * k + 1]);
        if (k === 0) ctx.moveTo(sx, sy); else ctx.lineTo(sx, sy);
      }
      ctx.stroke();
      const [mx, my] = toScreen(path.P[2 * state.step], path.P[2 * state.step + 1]);
      ctx.fillStyle = "#000";
      ctx.beginPath(); ctx.arc(mx, my, 4, 0, 2 * Math.PI); ctx.fill();
    }
    if (state.hover >= 0) {
      const [hx, hy] = toScreen(XY[2 * state.hover], XY[2 * state.hover + 1]);
      ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(hx, hy, 7, 0, 2 * Math.PI); ctx.stroke();
    }
    const here = planeOf(state.z);
    if (here) {
      const [cx, cy] = toScreen(here[0], here[1]);
      ctx.strokeStyle = "#D55E00"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(cx - 8, cy); ctx.lineTo(cx + 8, cy); ctx.moveTo(cx, cy - 8); ctx.lineTo(cx, cy + 8); ctx.stroke();
    }
  }

  function paint(target, pixels) {
    const image = new ImageData(W, H);
    for (let i = 0; i < W * H; i++) {  // pixels are channel-major: C planes of H x W (grey: one plane)
      for (let c = 0; c < 3; c++) {
        image.data[4 * i + c] = Math.max(0, Math.min(255, Math.round(pixels[(C === 3 ? c : 0) * H * W + i] * 255)));
      }
      image.data[4 * i + 3] = 255;
    }
    const off = document.createElement("canvas");
    off.width = W; off.height = H;
    off.getContext("2d").putImageData(image, 0, 0);
    const c = target.getContext("2d");
    c.imageSmoothingEnabled = false;
    c.clearRect(0, 0, target.width, target.height);
    c.drawImage(off, 0, 0, target.width, target.height);
  }

  function showCurrent() {
    const start = performance.now();
    const pixels = decode(state.z);
    const ms = performance.now() - start;
    state.decodeTimes.push(ms);
    if (state.decodeTimes.length > 50) state.decodeTimes.shift();
    paint(decodedCanvas, pixels);
    const mean = state.decodeTimes.reduce((a, b) => a + b, 0) / state.decodeTimes.length;
    // browsers coarsen the clock (to 0.1 ms in some contexts): below that, say so rather than print 0
    const perFrame = mean < 0.1 ? "< 0.1" : mean.toFixed(2);
    el("timing").textContent = "decode: " + perFrame + " ms per frame (mean of " + state.decodeTimes.length + ")";
    let norm = 0;
    for (let j = 0; j < d; j++) norm += state.z[j] * state.z[j];
    const shown = Array.from(state.z.slice(0, 6), (v) => v.toFixed(2)).join(", ") + (d > 6 ? ", …" : "");
    el("readout").textContent = "z = (" + shown + ")\n|z| = " + Math.sqrt(norm).toFixed(3) + (D.variational ? "  (√d = " + Math.sqrt(d).toFixed(2) + ")" : "");
    syncSliders();
    drawScatter();
    draw3d();
    return ms;
  }

  // ------------------------------------------------------------------ sliders
  const sliders = [];
  function buildSliders() {
    const order = D.activity;
    const shownCount = Math.min(D.max_sliders, d);
    order.forEach((j, rank) => {
      const lo = Math.min(-3, D.mean[j] - 4 * D.std[j]), hi = Math.max(3, D.mean[j] + 4 * D.std[j]);
      const row = document.createElement("label");
      row.className = "slider";
      const name = document.createElement("span");
      name.textContent = "z" + j;
      name.title = "std over the test points " + D.std[j].toFixed(3);
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min: lo, max: hi, step: (hi - lo) / 400, value: state.z[j] });
      input.dataset.dim = j;
      const value = document.createElement("span");
      input.addEventListener("input", () => { state.z[j] = Number(input.value); showCurrent(); });
      row.append(name, input, value);
      (rank < shownCount ? el("sliders") : el("more-sliders")).appendChild(row);
      sliders[j] = { input, value };
    });
    const hidden = d - shownCount;
    if (hidden > 0) el("more").querySelector("summary").textContent = hidden + " more, less active";
    else el("more").hidden = true;
  }
  function syncSliders() {
    for (let j = 0; j < d; j++) {
      if (!sliders[j]) continue;
      sliders[j].input.value = state.z[j];
      sliders[j].value.textContent = state.z[j].toFixed(2);
    }
  }

  // ------------------------------------------------------------------ paths
  function buildPaths() {
    const select = el("path-select");
    if (!PATHS.length) { el("paths-box").hidden = true; return; }
    PATHS.forEach((p, i) => {
      const option = document.createElement("option");
      option.value = i; option.textContent = p.label + " (" + p.steps + " steps)";
      select.appendChild(option);
    });
    select.addEventListener("change", () => { state.path = Number(select.value); setStep(0); });
    el("path-step").addEventListener("input", (e) => setStep(Number(e.target.value)));
  }
  function setStep(k) {
    const path = PATHS[state.path];
    state.step = Math.max(0, Math.min(path.steps - 1, k));
    el("path-step").max = path.steps - 1;
    el("path-step").value = state.step;
    state.z = Float64Array.from(path.Z.subarray(state.step * d, (state.step + 1) * d));
    el("path-text").textContent = "step " + state.step + " of " + (path.steps - 1);
    showCurrent();
  }

  // ------------------------------------------------------------------ legend
  function buildLegend() {
    const legend = el("legend");
    if (D.label_kind === "angle") {
      const wheel = document.createElement("canvas");
      wheel.width = 160; wheel.height = 10; wheel.className = "wheel";
      const c = wheel.getContext("2d");
      for (let x = 0; x < 160; x++) { c.fillStyle = "hsl(" + (x / 160 * 360) + ",70%,45%)"; c.fillRect(x, 0, 1, 10); }
      legend.append("line angle 0°", wheel, "360°");
      return;
    }
    const seen = Array.from(new Set(Array.from(LABELS, (v) => Math.round(v)))).sort((a, b) => a - b);
    for (const label of seen) {
      const item = document.createElement("span");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = PALETTE[Math.abs(label) % PALETTE.length];
      item.append(swatch, D.label_names ? D.label_names[label] : "label " + label);
      legend.appendChild(item);
    }
  }

  // ------------------------------------------------------------------ 3-D view
  function draw3d() {
    if (!PC3) return;
    const canvas = el("view3d"), c = canvas.getContext("2d");
    c.clearRect(0, 0, canvas.width, canvas.height);
    const cy = Math.cos(state.yaw), sy = Math.sin(state.yaw), cp = Math.cos(state.pitch), sp = Math.sin(state.pitch);
    let extent = 1e-6;
    for (let i = 0; i < 3 * N; i++) extent = Math.max(extent, Math.abs(PC3[i]));
    const scale = canvas.width / (2.6 * extent);
    const project = (a, b, e) => {
      const x1 = cy * a + sy * e, z1 = -sy * a + cy * e;
      const y2 = cp * b - sp * z1, z2 = sp * b + cp * z1;
      return [canvas.width / 2 + x1 * scale, canvas.height / 2 - y2 * scale, z2];
    };
    const order = [];
    for (let i = 0; i < N; i++) order.push([i, project(PC3[3 * i], PC3[3 * i + 1], PC3[3 * i + 2])]);
    order.sort((a, b) => a[1][2] - b[1][2]);
    for (const [i, [x, y]] of order) { c.fillStyle = colour(i); c.fillRect(x - 1.5, y - 1.5, 3, 3); }
    c.strokeStyle = "#999";
    for (const [axis, name] of [[[1, 0, 0], "PC1"], [[0, 1, 0], "PC2"], [[0, 0, 1], "PC3"]]) {
      const [x0, y0] = project(0, 0, 0), [x1, y1] = project(axis[0] * extent, axis[1] * extent, axis[2] * extent);
      c.beginPath(); c.moveTo(x0, y0); c.lineTo(x1, y1); c.stroke();
      c.fillStyle = "#444"; c.fillText(name, x1 + 2, y1 - 2);
    }
    const pc = pcaCoords(state.z);
    const [mx, my] = project(pc[0], pc[1], pc[2] || 0);
    c.strokeStyle = "#D55E00"; c.lineWidth = 2;
    c.beginPath(); c.moveTo(mx - 7, my); c.lineTo(mx + 7, my); c.moveTo(mx, my - 7); c.lineTo(mx, my + 7); c.stroke();
    c.lineWidth = 1;
  }
  function setup3d() {
    if (!PC3) return;
    el("view3d-box").hidden = false;
    const canvas = el("view3d");
    let last = null;
    canvas.addEventListener("pointerdown", (e) => {
      last = [e.clientX, e.clientY];
      try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* a synthetic pointer cannot be captured */ }
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!last) return;
      state.yaw += (e.clientX - last[0]) * 0.01;
      state.pitch = Math.max(-1.5, Math.min(1.5, state.pitch + (e.clientY - last[1]) * 0.01));
      last = [e.clientX, e.clientY];
      draw3d();
    });
    canvas.addEventListener("pointerup", () => { last = null; });
  }

  // ------------------------------------------------------------------ scatter interaction
  function screenPoint(e) {
    const box = scatter.getBoundingClientRect();
    return [(e.clientX - box.left) * scatter.width / box.width, (e.clientY - box.top) * scatter.height / box.height];
  }
  function onMove(e) {
    const [sx, sy] = screenPoint(e);
    if (state.drag) {
      state.view.cx -= (sx - state.drag[0]) / state.view.scale;
      state.view.cy += (sy - state.drag[1]) / state.view.scale;
      state.drag = [sx, sy];
      drawScatter();
      return;
    }
    const [x, y] = toPlane(sx, sy);
    const [i, dist] = nearestPoint(x, y);
    if (i >= 0 && dist * state.view.scale <= 6) {
      state.hover = i;
      state.z = Float64Array.from(MU.subarray(i * d, (i + 1) * d));
      el("hover").hidden = false;
      el("hover-text").textContent = "point " + D.points.index[i] + ", label " + labelText(LABELS[i]) + ": its reconstruction";
      paint(el("hover-image"), decode(state.z));
    } else {
      state.hover = -1;
      el("hover").hidden = true;
      state.z = latentAt(x, y);
    }
    showCurrent();
  }
  function setupScatter() {
    scatter.addEventListener("pointermove", onMove);
    scatter.addEventListener("pointerdown", (e) => {
      state.drag = screenPoint(e);
      scatter.classList.add("dragging");
      if (scatter.setPointerCapture && e.pointerId !== undefined) { try { scatter.setPointerCapture(e.pointerId); } catch (err) { /* synthetic */ } }
    });
    const stop = () => { state.drag = null; scatter.classList.remove("dragging"); };
    scatter.addEventListener("pointerup", stop);
    scatter.addEventListener("pointerleave", stop);
    scatter.addEventListener("wheel", (e) => {
      e.preventDefault();
      const [sx, sy] = screenPoint(e);
      const [x, y] = toPlane(sx, sy);
      const factor = Math.exp(-e.deltaY * 0.0015);
      state.view.scale *= factor;
      state.view.cx = x - (x - state.view.cx) / factor;
      state.view.cy = y - (y - state.view.cy) / factor;
      drawScatter();
    }, { passive: false });
    scatter.addEventListener("dblclick", () => { fitView(); drawScatter(); });
  }

  // ------------------------------------------------------------------ self-tests (#selftest, #selftest-ui)
  function report(id, text) {
    const pre = document.createElement("pre");
    pre.id = id; pre.className = "selftest"; pre.textContent = text;
    document.body.appendChild(pre);
  }
  function selftest() {
    const k = D.selftest.k, Z = f32(D.selftest.z), ref = f32(D.selftest.images);
    let worst = 0;
    const start = performance.now();
    for (let i = 0; i < k; i++) {
      const out = decode(Z.subarray(i * d, (i + 1) * d));
      for (let p = 0; p < C * H * W; p++) worst = Math.max(worst, Math.abs(out[p] - ref[i * C * H * W + p]));
    }
    const ms = (performance.now() - start) / k;
    report("selftest", "max_abs_diff=" + worst.toExponential(3) + " frames=" + k);
    report("selftest-timing", "decode_ms=" + ms.toFixed(3));
  }
  function pixels() { return Array.from(decodedCtx.getImageData(0, 0, decodedCanvas.width, decodedCanvas.height).data); }
  const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  function pointerAt(type, sx, sy) {
    const box = scatter.getBoundingClientRect();
    const event = new PointerEvent(type, { bubbles: true, clientX: box.left + sx * box.width / scatter.width,
      clientY: box.top + sy * box.height / scatter.height, pointerId: 1 });
    scatter.dispatchEvent(event);
  }
  function selftestUi() {
    const results = {};
    // pointer over empty space far from the data, then elsewhere: the decoded image follows the pointer
    const before = pixels();
    pointerAt("pointermove", 4, 4);
    const a = pixels();
    pointerAt("pointermove", scatter.width - 4, scatter.height - 4);
    const b = pixels();
    results.pointer = !same(before, a) || !same(a, b) ? 1 : 0;
    // hovering a point shows its reconstruction
    const [hx, hy] = toScreen(XY[0], XY[1]);
    pointerAt("pointermove", hx, hy);
    results.hover = !el("hover").hidden && state.hover >= 0 ? 1 : 0;
    // the most active dimension's slider moves the latent
    const slider = sliders[D.activity[0]].input, beforeSlider = pixels();
    slider.value = slider.max;
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    const afterMax = pixels();
    slider.value = slider.min;
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    results.slider = !same(beforeSlider, afterMax) || !same(afterMax, pixels()) ? 1 : 0;
    // scrubbing a path decodes its steps
    if (PATHS.length) {
      const scrub = el("path-step");
      scrub.value = 0; scrub.dispatchEvent(new Event("input", { bubbles: true }));
      const first = pixels();
      scrub.value = PATHS[state.path].steps - 1; scrub.dispatchEvent(new Event("input", { bubbles: true }));
      results.path = same(first, pixels()) ? 0 : 1;
    } else {
      results.path = "none";
    }
    // the wheel zooms, a drag pans
    const scale = state.view.scale, cx = state.view.cx;
    scatter.dispatchEvent(new WheelEvent("wheel", { deltaY: -300, clientX: scatter.getBoundingClientRect().left + 100,
      clientY: scatter.getBoundingClientRect().top + 100, bubbles: true, cancelable: true }));
    results.zoom = state.view.scale > scale ? 1 : 0;
    pointerAt("pointerdown", 300, 300); pointerAt("pointermove", 350, 300); pointerAt("pointerup", 350, 300);
    results.pan = state.view.cx !== cx ? 1 : 0;
    // the legend names every label (classes) or shows the angle wheel (lines)
    results.legend = el("legend").children.length > 0 ? 1 : 0;
    // a drag over the 3-D view rotates it
    if (PC3) {
      const view = el("view3d"), box = view.getBoundingClientRect(), yaw = state.yaw, shown = view.toDataURL();
      const at = (type, x) => view.dispatchEvent(new PointerEvent(type, { bubbles: true, pointerId: 2, clientX: box.left + x, clientY: box.top + 50 }));
      at("pointerdown", 50); at("pointermove", 120); at("pointerup", 120);
      results.rotate = state.yaw !== yaw && view.toDataURL() !== shown ? 1 : 0;
    } else {
      results.rotate = "none";
    }
    const mean = state.decodeTimes.reduce((x, y) => x + y, 0) / state.decodeTimes.length;
    report("selftest-ui", Object.entries(results).map(([key, v]) => key + "=" + v).join(" ") + " decode_ms=" + mean.toFixed(3));
  }

  // ------------------------------------------------------------------ start
  el("title").textContent = D.run + ": latent explorer";
  const projection = d <= 2 ? "the latent coordinates themselves" : D.projection === "pca"
    ? "the top two principal components (" + D.pca.variance_ratio.slice(0, 2).map((r) => (100 * r).toFixed(0) + "%").join(" + ") + " of the variance)"
    : D.projection.toUpperCase().replace("TSNE", "t-SNE") + " (the pointer decodes the nearest encoded point)";
  el("subtitle").textContent = N + " encoded test points of a " + d + "-D " + D.kind + " model, on " + projection + (LAYERS
    ? "; decoded in this page."
    : ". This page cannot run the model's decoder (" + D.fallback + "): it shows the image torch decoded at the nearest of " + PRE.k
      + " latents (the points, a grid over the plane, the paths' steps).");
  fitView();
  buildLegend();
  buildSliders();
  buildPaths();
  setup3d();
  setupScatter();
  showCurrent();
  if (location.hash === "#selftest") selftest();
  if (location.hash === "#selftest-ui") selftestUi();
})();
