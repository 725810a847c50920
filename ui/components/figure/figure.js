// A light figure: draws the part of Plotly's figure format this app uses (heatmaps, scatter lines and
// markers, rectangles and lines, annotations, titles, linear and log axes, subplots, equal-unit grids) as
// SVG, so a page's first screen needs no Plotly JavaScript (about 1.2 s of a first render). Python sends
// the figure's own JSON (ui/figure_view.py decides which figures qualify; others still go to Plotly).
// Hovering shows a cell's or a point's values; a click on a selectable figure sends Plotly's selection
// shape back ({"points": [{"x", "y", ...}]}), so pages read it as they read st.plotly_chart's.

const SVGNS = "http://www.w3.org/2000/svg";
const DEFAULT_COLORWAY = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692",
  "#B6E880", "#FF97FF", "#FECB52"];
const MAX_SVG_CELLS = 2500; // larger heatmaps (with no numbers) are drawn as one picture
const DASHES = { dash: "6,4", dot: "2,3", dashdot: "6,3,2,3" }; // Plotly's line dashes as SVG dash arrays

function el(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) node.setAttribute(k, v);
  }
  if (parent) parent.appendChild(node);
  return node;
}

// --- data ---------------------------------------------------------------------------------------------

const DTYPES = {
  f8: Float64Array, f4: Float32Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array, u2: Uint16Array,
  i4: Int32Array, u4: Uint32Array,
};

// A Plotly array: a list (of lists), or {dtype, bdata (base64), shape} -> {values (flat), rows, cols}.
function decode(value) {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) {
    if (value.length && Array.isArray(value[0])) {
      const rows = value.length;
      const cols = Math.max(...value.map((r) => r.length));
      const out = new Float64Array(rows * cols).fill(NaN);
      value.forEach((r, i) => r.forEach((v, j) => { out[i * cols + j] = v === null ? NaN : Number(v); }));
      return { values: out, rows, cols };
    }
    return { values: Float64Array.from(value, (v) => (v === null ? NaN : Number(v))), rows: 1, cols: value.length };
  }
  // A plain loop: Uint8Array.from with a function took 100 ms of Feature maps' first render (six 128x128 maps).
  const text = atob(value.bdata);
  const bytes = new Uint8Array(text.length);
  for (let k = 0; k < text.length; k++) bytes[k] = text.charCodeAt(k);
  const values = new DTYPES[value.dtype](bytes.buffer);
  const shape = value.shape ? String(value.shape).split(",").map(Number) : [values.length];
  return { values, rows: shape.length > 1 ? shape[0] : 1, cols: shape.length > 1 ? shape[1] : shape[0], depth: shape[2] || 1 };
}

function textAt(text, i, j) {
  if (!text) return "";
  const row = text[i];
  return row && row[j] !== null && row[j] !== undefined ? String(row[j]) : "";
}

// The (row, column) of a heatmap's or image's cell under pixel (px, py), or null outside its cells.
function cellAt(t, px, py) {
  const j = Math.round((t.xa.value(px) - (t.x0 ?? 0)) / (t.dx ?? 1));
  const i = Math.round((t.ya.value(py) - (t.y0 ?? 0)) / (t.dy ?? 1));
  return i >= 0 && j >= 0 && i < t.zz.rows && j < t.zz.cols ? [i, j] : null;
}

// --- colour -------------------------------------------------------------------------------------------

function parseColor(c) {
  if (typeof c !== "string") return [0, 0, 0, 1];
  c = c.trim();
  if (c[0] === "#") {
    const h = c.length === 4 ? c.slice(1).split("").map((x) => x + x).join("") : c.slice(1);
    return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16), 1];
  }
  const m = c.match(/rgba?\(([^)]+)\)/);
  if (m) {
    const p = m[1].split(",").map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  return [0, 0, 0, 1];
}

function scaleOf(trace) {
  const stops = (trace.colorscale || [[0, "#000"], [1, "#fff"]]).map(([t, c]) => [Number(t), parseColor(c)]);
  return (t) => {
    if (!(t >= 0)) t = 0;
    if (t > 1) t = 1;
    let k = 1;
    while (k < stops.length - 1 && stops[k][0] < t) k++;
    const [t0, c0] = stops[k - 1];
    const [t1, c1] = stops[k];
    const f = t1 > t0 ? (t - t0) / (t1 - t0) : 0;
    return c0.map((v, n) => v + f * (c1[n] - v));
  };
}

function css([r, g, b, a]) {
  return `rgba(${Math.round(r)},${Math.round(g)},${Math.round(b)},${+a.toFixed(3)})`;
}

// Numbers in a cell: black or white, whichever has the higher WCAG contrast on the cell (as the stepper
// does: cnnviz.draw.palette.ink). A translucent cell (a shade over the page) takes the theme's text colour.
function contrast([r, g, b, a]) {
  if (a < 0.5) return "var(--st-text-color, #31333f)";
  const lin = [r, g, b].map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const l = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000000" : "#ffffff";
}

function zRange(trace, z) {
  let lo = trace.zmin;
  let hi = trace.zmax;
  if (lo === undefined || hi === undefined) {
    let a = Infinity;
    let b = -Infinity;
    for (const v of z.values) if (Number.isFinite(v)) { a = Math.min(a, v); b = Math.max(b, v); }
    if (lo === undefined) lo = Number.isFinite(a) ? a : 0;
    if (hi === undefined) hi = Number.isFinite(b) ? b : 1;
  }
  return [lo, hi === lo ? lo + 1 : hi];
}

// The heatmap (or the marker scale of a colour-bar-only scatter) whose colour bar the figure shows.
function colorbarOf(traces) {
  const heat = traces.find((t) => t.type === "heatmap" && t.showscale !== false && t.zz);
  if (heat) return heat;
  const m = traces.find((t) => t.type === "scatter" && t.marker?.showscale)?.marker;
  return m ? { colorscale: m.colorscale, zmin: m.cmin, zmax: m.cmax, colorbar: m.colorbar } : null;
}

// A cols x rows picture as a PNG data URI: pixel(k) is cell k's [r, g, b, a] in 0..255 (row by row), or
// null for a transparent one.
function pictureUri(cols, rows, pixel) {
  const canvas = document.createElement("canvas");
  canvas.width = cols;
  canvas.height = rows;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(cols, rows);
  for (let k = 0; k < cols * rows; k++) {
    const p = pixel(k);
    if (p) img.data.set(p, 4 * k);
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL();
}

// A trace's picture (`cols` x `rows` cells, cell (0, 0) centred on (x0, y0)) drawn over its cells' span on its
// axes, mirrored where an axis runs against the picture's rows or columns.
function placePicture(g, t, cols, rows, href) {
  const { xa, ya } = t;
  const dx = t.dx ?? 1;
  const dy = t.dy ?? 1;
  const x0 = t.x0 ?? 0;
  const y0 = t.y0 ?? 0;
  const xs = [xa.px(x0 - dx / 2), xa.px(x0 + (cols - 0.5) * dx)];
  const ys = [ya.px(y0 - dy / 2), ya.px(y0 + (rows - 0.5) * dy)];
  const box = { x: Math.min(...xs), y: Math.min(...ys), width: Math.abs(xs[1] - xs[0]), height: Math.abs(ys[1] - ys[0]) };
  const image = el("image", { ...box, preserveAspectRatio: "none", href, class: "fig-picture" }, g);
  const flipX = xs[1] < xs[0];
  const flipY = ys[1] < ys[0];
  if (flipX || flipY) {
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    image.setAttribute("transform", `translate(${cx} ${cy}) scale(${flipX ? -1 : 1} ${flipY ? -1 : 1}) translate(${-cx} ${-cy})`);
  }
}

// A PNG data URI's width and height, from its header (IHDR: bytes 16..23, big-endian).
function pngSize(uri) {
  const head = atob(uri.slice(uri.indexOf(",") + 1, uri.indexOf(",") + 45));
  const at = (k) => ((head.charCodeAt(k) << 24) | (head.charCodeAt(k + 1) << 16) | (head.charCodeAt(k + 2) << 8) | head.charCodeAt(k + 3)) >>> 0;
  return [at(16), at(20)];
}

// --- text ---------------------------------------------------------------------------------------------

// Plotly's rich text (<br>, <sub>, <sup>, <b>, <i>) as <tspan>s; returns the lines' count.
function richText(node, text, size, lineHeight = 1.25) {
  const lines = String(text).split(/<br\s*\/?>/i);
  lines.forEach((line, n) => {
    let first = true;
    const parts = line.split(/(<\/?(?:sub|sup|b|i)>)/i);
    const style = { sub: false, sup: false, b: false, i: false };
    for (const part of parts) {
      const tag = part.match(/^<(\/?)(sub|sup|b|i)>$/i);
      if (tag) { style[tag[2].toLowerCase()] = !tag[1]; continue; }
      if (!part) continue;
      const attrs = {};
      if (first) {
        attrs.x = node.getAttribute("x") || 0;
        attrs.dy = n === 0 ? "0" : `${lineHeight * size}`;
        first = false;
      }
      if (style.sub || style.sup) attrs["font-size"] = `${Math.round(size * 0.75)}`;
      if (style.sup) attrs["baseline-shift"] = "super";
      if (style.b) attrs["font-weight"] = "bold";
      if (style.i) attrs["font-style"] = "italic";
      const span = el("tspan", attrs, node);
      span.textContent = part.replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
    }
    if (first) el("tspan", { x: node.getAttribute("x") || 0, dy: n === 0 ? "0" : `${lineHeight * size}` }, node);
  });
  return lines.length;
}

function plain(text) {
  return String(text).replace(/<br\s*\/?>/gi, "\n").replace(/<[^>]+>/g, "");
}

function fmtNumber(v, digits = 4) {
  if (typeof v === "string" || !Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(digits)));
}

// A trace's hovertemplate filled in for one point (%{x}, %{y}, %{z...}, %{text}; <extra> is the name).
function hoverText(trace, x, y, z, text) {
  const tpl = trace.hovertemplate;
  if (!tpl) return `${trace.name ? trace.name + "\n" : ""}x ${fmtNumber(x)}, y ${fmtNumber(y)}` + (z === undefined ? "" : `, ${fmtNumber(z)}`);
  const fill = tpl.replace(/%\{(\w+)(?:\[(\d)\])?(?::[^}]*)?\}/g, (_, k, n) => {
    if (k === "z" && n !== undefined) return Array.isArray(z) ? fmtNumber(z[Number(n)]) : "";
    if (k === "x") return fmtNumber(x);
    if (k === "y") return fmtNumber(y);
    if (k === "z") return fmtNumber(z);
    if (k === "text") return plain(text ?? "");
    return "";
  });
  return plain(fill.replace(/<extra>(.*?)<\/extra>/i, (_, name) => (name ? `<br>${name}` : "")));
}

// --- axes ---------------------------------------------------------------------------------------------

function niceStep(span, target) {
  const raw = span / Math.max(1, target);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function tickLabel(v, step) {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return (Math.abs(v) < step / 1e6 ? 0 : v).toFixed(Math.min(digits, 8));
}

class Axis {
  constructor(name, spec, letter) {
    this.name = name;
    this.spec = spec || {};
    this.letter = letter; // "x" or "y"
    this.log = this.spec.type === "log";
    this.domain = this.spec.domain || [0, 1];
    this.lo = Infinity;
    this.hi = -Infinity;
    this.padded = false;
  }

  include(v, pad = false) {
    if (!Number.isFinite(v)) return;
    if (this.log) { if (v <= 0) return; v = Math.log10(v); }
    this.lo = Math.min(this.lo, v);
    this.hi = Math.max(this.hi, v);
    this.padded = this.padded || pad;
  }

  // The range in axis units (log10 for a log axis), from the spec or the data.
  settle() {
    const s = this.spec;
    if (Array.isArray(s.range) && s.autorange !== true && s.autorange !== "reversed") {
      [this.r0, this.r1] = s.range.map(Number);
      return;
    }
    let lo = this.lo;
    let hi = this.hi;
    if (!Number.isFinite(lo)) { lo = this.log ? 0 : -1; hi = this.log ? 1 : 1; }
    if (s.rangemode === "tozero" && !this.log) { lo = Math.min(lo, 0); hi = Math.max(hi, 0); }
    if (hi === lo) {
      if (s.rangemode === "tozero" && lo === 0) hi = 1;
      else { lo -= 1; hi += 1; }
    }
    if (this.padded) {
      const pad = 0.05 * (hi - lo);
      if (!(s.rangemode === "tozero" && lo === 0)) lo -= pad;
      hi += pad;
    }
    [this.r0, this.r1] = s.autorange === "reversed" ? [hi, lo] : [lo, hi];
  }

  place(p0, p1) { // pixel positions of r0 and r1
    this.p0 = p0;
    this.p1 = p1;
  }

  px(v) {
    if (this.log) v = v > 0 ? Math.log10(v) : NaN;
    return this.p0 + ((v - this.r0) / (this.r1 - this.r0)) * (this.p1 - this.p0);
  }

  value(px) { // pixel -> data value
    const u = this.r0 + ((px - this.p0) / (this.p1 - this.p0)) * (this.r1 - this.r0);
    return this.log ? 10 ** u : u;
  }

  unitsPerPx() { return Math.abs(this.r1 - this.r0) / Math.abs(this.p1 - this.p0); }

  ticks() { // [[value, label, superscript]]
    if (this.cats) return this.cats.map((name, k) => [k, name, null]);
    const s = this.spec;
    const lo = Math.min(this.r0, this.r1);
    const hi = Math.max(this.r0, this.r1);
    const out = [];
    if (this.log) {
      const step = Math.max(1, Math.round(Number(s.dtick) || 1));
      for (let k = Math.ceil(lo); k <= hi + 1e-9; k += step) {
        if (s.exponentformat === "power" && Math.abs(k) > 2) out.push([10 ** k, "10", String(k)]);
        else out.push([10 ** k, fmtNumber(10 ** k), null]);
      }
      return out;
    }
    const length = Math.abs(this.p1 - this.p0);
    const step = Number(s.dtick) || niceStep(hi - lo, this.letter === "x" ? length / 80 : length / 40);
    const t0 = Number(s.tick0) || 0;
    const first = t0 + Math.ceil((lo - t0) / step - 1e-9) * step;
    for (let v = first; v <= hi + 1e-9 * step && out.length < 500; v += step) {
      out.push([v, tickLabel(v, step), null]);
    }
    return out;
  }
}

// One legend entry: the trace's line as a short stroke at (x, cy), its name after it.
function legendItem(g, t, x, cy, size) {
  const color = t.line?.color || t.marker?.color || t.autoColor;
  el("line", { x1: x, x2: x + 18, y1: cy, y2: cy, stroke: color, "stroke-width": 3, opacity: t.opacity }, g);
  el("text", { x: x + 24, y: cy + size * 0.35, "font-size": size, class: "fig-tick" }, g).textContent = plain(t.name);
}

// A tick's label (a power of ten's exponent, `sup`, raised after it).
function tickText(g, attrs, label, sup, size) {
  const node = el("text", { ...attrs, "font-size": size, class: "fig-tick" }, g);
  node.textContent = label;
  if (sup) el("tspan", { "baseline-shift": "super", "font-size": Math.round(size * 0.75) }, node).textContent = sup;
}

// --- the figure ---------------------------------------------------------------------------------------

function axisName(ref, letter) { return ref && ref !== letter ? `${letter}axis${ref.slice(1)}` : `${letter}axis`; }

class Figure {
  constructor(root, fig, data) {
    this.root = root;
    this.fig = fig;
    this.data = data;
    this.layout = fig.layout || {};
    this.traces = (fig.data || []).map((t) => {
      // A heatmap with named columns or rows (category axes): cell k sits at k, its name is the label.
      const names = (v) => (Array.isArray(v) && typeof v[0] === "string" ? v.map(String) : null);
      const cats = t.type === "heatmap" ? { xcats: names(t.x), ycats: names(t.y) } : {};
      return { ...t, ...cats, zz: decode(t.z), xx: cats.xcats ? null : decode(t.x), yy: cats.ycats ? null : decode(t.y) };
    });
  }

  font(path, fallback) {
    let v = this.layout;
    for (const k of path) v = v?.[k];
    return Number(v) || fallback;
  }

  draw(width) {
    const L = this.layout;
    const base = this.font(["font", "size"], 12);
    const W = Math.max(120, Math.round(width));
    const H = Math.round(L.height || 450);
    const m = { l: 80, r: 80, t: 100, b: 80, ...(L.margin || {}) };
    const svg = el("svg", {
      width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "fig-svg", role: "img",
      "aria-label": plain(L.title?.text || this.data.name || "figure"), "font-size": base,
    });
    this.svg = svg;
    this.axes = {};
    const axis = (name, letter) => {
      if (!this.axes[name]) this.axes[name] = new Axis(name, L[name], letter);
      return this.axes[name];
    };
    for (const key of Object.keys(L)) {
      const m2 = key.match(/^([xy])axis\d*$/);
      if (m2) axis(key, m2[1]);
    }
    // Data extents
    for (const t of this.traces) {
      const xa = axis(axisName(t.xaxis, "x"), "x");
      const ya = axis(axisName(t.yaxis, "y"), "y");
      t.xa = xa;
      t.ya = ya;
      if (t.type === "heatmap" && t.zz) {
        const dx = t.dx ?? 1;
        const dy = t.dy ?? 1;
        if (t.xcats) xa.cats = t.xcats;
        if (t.ycats) ya.cats = t.ycats;
        xa.include((t.x0 ?? 0) - dx / 2);
        xa.include((t.x0 ?? 0) + (t.zz.cols - 0.5) * dx);
        ya.include((t.y0 ?? 0) - dy / 2);
        ya.include((t.y0 ?? 0) + (t.zz.rows - 0.5) * dy);
      } else if (t.type === "image" && (t.source || t.zz)) {
        [t.iw, t.ih] = t.source ? pngSize(t.source) : [t.zz.cols, t.zz.rows];
        const dx = t.dx ?? 1;
        const dy = t.dy ?? 1;
        xa.include((t.x0 ?? 0) - dx / 2);
        xa.include((t.x0 ?? 0) + (t.iw - 0.5) * dx);
        ya.include((t.y0 ?? 0) - dy / 2);
        ya.include((t.y0 ?? 0) + (t.ih - 0.5) * dy);
      } else if (t.type === "scatter" && t.xx && t.yy) {
        const markers = (t.mode || "lines+markers").includes("markers");
        for (const v of t.xx.values) xa.include(v, markers);
        for (const v of t.yy.values) ya.include(v, true);
      }
    }
    for (const s of L.shapes || []) {
      if (s.xref !== "paper" && s.type !== "line") { const xa = axis(axisName(s.xref, "x"), "x"); xa.include(s.x0); xa.include(s.x1); }
      if (s.yref !== "paper") { const ya = axis(axisName(s.yref, "y"), "y"); ya.include(s.y0); ya.include(s.y1); }
    }
    Object.values(this.axes).forEach((a) => a.settle());

    // Room on the right for a colour bar or a legend outside the plot
    const bar = colorbarOf(this.traces);
    let right = 0;
    if (bar) {
      const cb = bar.colorbar || {};
      const tick = Number(cb.tickfont?.size) || base;
      right = (cb.thickness ?? 30) + (cb.xpad ?? 10) + 8 + tick * 3.6;
    }
    const legendItems = this.legendItems();
    const legendOutside = legendItems.length && L.legend?.orientation !== "h"
      && !(Number(L.legend?.x) <= 1 && L.legend?.x !== undefined);
    if (legendOutside) right += 24 + 0.6 * base * Math.max(...legendItems.map((t) => plain(t.name || "").length)) + 20;
    const plot = { x0: m.l, x1: W - m.r - right, y0: m.t, y1: H - m.b };
    if (plot.x1 - plot.x0 < 40) plot.x1 = plot.x0 + 40;
    if (plot.y1 - plot.y0 < 20) plot.y1 = plot.y0 + 20;
    this.plot = plot;
    this.placeAxes(plot);

    this.drawTitle(W, m, base);
    for (const t of this.traces) {
      if (t.type === "heatmap") this.drawHeatmap(t);
      if (t.type === "image") this.drawImage(t);
    }
    this.drawAxes(base);
    for (const t of this.traces) {
      if (t.type === "scatter") this.drawScatter(t);
    }
    this.drawShapes(plot);
    this.drawAnnotations(plot, base);
    if (bar) this.drawColorbar(bar, plot, base);
    if (legendItems.length) this.drawLegend(legendItems, plot, base, legendOutside);
    return svg;
  }

  placeAxes(plot) {
    const pw = plot.x1 - plot.x0;
    const ph = plot.y1 - plot.y0;
    for (const a of Object.values(this.axes)) {
      const [d0, d1] = a.domain;
      if (a.letter === "x") a.place(plot.x0 + d0 * pw, plot.x0 + d1 * pw);
      else a.place(plot.y1 - d0 * ph, plot.y1 - d1 * ph);
    }
    // Equal units (a y axis anchored to its x): shrink the looser one, centred in its domain.
    for (const a of Object.values(this.axes)) {
      const anchor = a.spec.scaleanchor;
      if (!anchor || !this.axes[axisName(anchor, anchor[0])]) continue;
      const b = this.axes[axisName(anchor, anchor[0])];
      const ua = a.unitsPerPx();
      const ub = b.unitsPerPx();
      const loose = ua < ub ? a : b;
      const u = Math.max(ua, ub);
      const mid = (loose.p0 + loose.p1) / 2;
      const half = (Math.abs(loose.r1 - loose.r0) / u) / 2;
      const sign = Math.sign(loose.p1 - loose.p0) || 1;
      loose.place(mid - sign * half, mid + sign * half);
    }
  }

  drawTitle(W, m, base) {
    const title = this.layout.title;
    if (!title?.text) return;
    const size = Number(title.font?.size) || this.font(["title_font", "size"], Math.round(base * 1.4));
    const x = (title.x ?? 0.5) * W;
    const anchor = title.xanchor === "left" || ((title.xanchor ?? "auto") === "auto" && (title.x ?? 0.5) < 1 / 3)
      ? "start" : title.xanchor === "right" ? "end" : "middle";
    const node = el("text", { x: anchor === "start" ? Math.max(x, 4) : x, "text-anchor": anchor, class: "fig-title", "font-size": size }, this.svg);
    const lines = richText(node, title.text, size);
    const block = size * (1 + 1.25 * (lines - 1));
    node.setAttribute("y", Math.max(size, m.t / 2 - block / 2 + size * 0.8));
  }

  drawHeatmap(t) {
    const z = t.zz;
    const { xa, ya } = t;
    const [lo, hi] = zRange(t, z);
    const color = scaleOf(t);
    const dx = t.dx ?? 1;
    const dy = t.dy ?? 1;
    const x0 = t.x0 ?? 0;
    const y0 = t.y0 ?? 0;
    const g = el("g", { class: "fig-heatmap", "data-name": plain(t.name || "") }, this.svg);
    const clip = `clip-${Math.random().toString(36).slice(2)}`;
    const defs = el("defs", {}, g);
    const cp = el("clipPath", { id: clip }, defs);
    el("rect", {
      x: Math.min(xa.p0, xa.p1), y: Math.min(ya.p0, ya.p1), width: Math.abs(xa.p1 - xa.p0), height: Math.abs(ya.p1 - ya.p0),
    }, cp);
    g.setAttribute("clip-path", `url(#${clip})`);
    const text = t.text && t.texttemplate ? t.text : null;
    const cellW = Math.abs(xa.px(x0 + dx) - xa.px(x0));
    const cellH = Math.abs(ya.px(y0 + dy) - ya.px(y0));
    const rgba = (v) => (Number.isFinite(v) ? color((v - lo) / (hi - lo)) : null);
    if (!text && (z.rows * z.cols > MAX_SVG_CELLS || !(t.xgap || t.ygap))) { // a picture: one image, no seams
      const href = pictureUri(z.cols, z.rows, (k) => {
        const c = rgba(z.values[k]);
        return c && [c[0], c[1], c[2], Math.round(255 * c[3])];
      });
      placePicture(g, t, z.cols, z.rows, href);
      return;
    }
    const gx = Math.min(t.xgap || 0, cellW / 3);
    const gy = Math.min(t.ygap || 0, cellH / 3);
    const size = Number(t.textfont?.size) || 12;
    for (let i = 0; i < z.rows; i++) {
      for (let j = 0; j < z.cols; j++) {
        const v = z.values[i * z.cols + j];
        const c = rgba(v);
        if (!c) continue;
        const cx = xa.px(x0 + j * dx);
        const cy = ya.px(y0 + i * dy);
        el("rect", {
          x: cx - cellW / 2 + gx / 2, y: cy - cellH / 2 + gy / 2, width: Math.max(0.5, cellW - gx),
          height: Math.max(0.5, cellH - gy), fill: css(c), "data-i": i, "data-j": j,
        }, g);
        const words = textAt(text, i, j);
        if (words) {
          const lines = words.split(/<br\s*\/?>/i).length;
          const node = el("text", {
            x: cx, y: cy + size * 0.35 - (lines - 1) * size * 0.6, "text-anchor": "middle", "font-size": size,
            class: "fig-cell-text", style: `fill: ${contrast(c)}`,
          }, g);
          richText(node, words, size, 1.2);
        }
      }
    }
  }

  drawImage(t) { // a picture Python already coloured: a PNG, or an (H, W, 3) array of 0..255
    const z = t.zz;
    const href = t.source || pictureUri(z.cols, z.rows, (k) => [...z.values.slice(z.depth * k, z.depth * k + 3), 255]);
    placePicture(el("g", { class: "fig-image", "data-name": plain(t.name || "") }, this.svg), t, t.iw, t.ih, href);
  }

  drawScatter(t) {
    if (!t.xx || !t.yy) return;
    const { xa, ya } = t;
    const n = Math.min(t.xx.values.length, t.yy.values.length);
    const mode = t.mode || "lines+markers";
    const color = t.line?.color || t.marker?.color || t.autoColor;
    const g = el("g", { class: "fig-scatter", "data-name": plain(t.name || ""), opacity: t.opacity }, this.svg);
    if (mode.includes("lines") && n > 1) {
      const pts = [];
      for (let k = 0; k < n; k++) {
        const x = xa.px(t.xx.values[k]);
        const y = ya.px(t.yy.values[k]);
        if (Number.isFinite(x) && Number.isFinite(y)) pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
      }
      const dash = DASHES[t.line?.dash];
      el("polyline", {
        points: pts.join(" "), fill: "none", stroke: color, "stroke-width": t.line?.width ?? 2,
        "stroke-dasharray": dash, "stroke-linejoin": "round",
      }, g);
    }
    if (mode.includes("markers")) {
      const size = Number(t.marker?.size) || 6;
      const opacity = t.marker?.opacity ?? 1;
      for (let k = 0; k < n; k++) {
        const x = xa.px(t.xx.values[k]);
        const y = ya.px(t.yy.values[k]);
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        const attrs = { fill: color, "fill-opacity": opacity, "data-k": k };
        if (t.marker?.symbol === "square") el("rect", { ...attrs, x: x - size / 2, y: y - size / 2, width: size, height: size }, g);
        else el("circle", { ...attrs, cx: x, cy: y, r: size / 2 }, g);
      }
    }
  }

  drawAxes(base) {
    const seen = new Set();
    for (const a of Object.values(this.axes)) {
      if (a.r0 === undefined || seen.has(a.name) || a.spec.visible === false) continue;
      seen.add(a.name);
      const s = a.spec;
      const size = Number(s.tickfont?.size) || base;
      const other = this.partner(a);
      const g = el("g", { class: `fig-axis fig-${a.name}` }, this.svg);
      const ticks = s.showticklabels === false ? [] : a.ticks();
      const grid = s.showgrid !== false && !this.isGrid(a);
      for (const [v, label, sup] of ticks) {
        const p = a.px(v);
        if (!Number.isFinite(p)) continue;
        if (a.letter === "x") {
          const top = s.side === "top";
          const y = top ? Math.min(other.p0, other.p1) - 6 : Math.max(other.p0, other.p1) + size + 4;
          if (grid) el("line", { x1: p, x2: p, y1: other.p0, y2: other.p1, class: "fig-grid" }, g);
          tickText(g, { x: p, y, "text-anchor": "middle" }, label, sup, size);
        } else {
          const x = Math.min(other.p0, other.p1) - 6;
          if (grid) el("line", { y1: p, y2: p, x1: other.p0, x2: other.p1, class: "fig-grid" }, g);
          tickText(g, { x, y: p + size * 0.35, "text-anchor": "end" }, label, sup, size);
        }
      }
      const title = s.title?.text;
      if (title) {
        const tsize = Number(s.title?.font?.size) || size;
        if (a.letter === "x") {
          const y = s.side === "top" ? Math.min(other.p0, other.p1) - size - 14
            : Math.max(other.p0, other.p1) + size + tsize + 14;
          richText(el("text", { x: (a.p0 + a.p1) / 2, y, "text-anchor": "middle", "font-size": tsize, class: "fig-axis-title" }, g), title, tsize);
        } else {
          const widest = Math.max(2, ...ticks.map(([, label]) => String(label).length)); // tick labels' room
          const x = Math.min(other.p0, other.p1) - 10 - 0.6 * size * widest - tsize * 0.6;
          const y = (a.p0 + a.p1) / 2;
          const node = el("text", { x: 0, y: 0, "text-anchor": "middle", "font-size": tsize, class: "fig-axis-title", transform: `translate(${x} ${y}) rotate(-90)` }, g);
          richText(node, title, tsize);
        }
      }
    }
  }

  isGrid(a) { // an axis of a heatmap grid (no grid lines over the cells)
    return this.traces.some((t) => t.type === "heatmap" && (t.xa === a || t.ya === a));
  }

  partner(a) { // the axis this one is drawn against
    const anchor = a.spec.anchor;
    const letter = a.letter === "x" ? "y" : "x";
    if (anchor && anchor !== "free" && this.axes[axisName(anchor, letter)]) return this.axes[axisName(anchor, letter)];
    const suffix = a.name.slice(5);
    return this.axes[`${letter}axis${suffix}`] || Object.values(this.axes).find((b) => b.letter === letter)
      || { p0: this.plot[letter === "x" ? "x0" : "y1"], p1: this.plot[letter === "x" ? "x1" : "y0"] };
  }

  ref(refName, letter, v, plot) { // a coordinate in data or paper units -> pixels
    if (refName === "paper") {
      return letter === "x" ? plot.x0 + v * (plot.x1 - plot.x0) : plot.y1 - v * (plot.y1 - plot.y0);
    }
    const a = this.axes[axisName(refName, letter)];
    return a ? a.px(v) : NaN;
  }

  drawShapes(plot) {
    const g = el("g", { class: "fig-shapes" }, this.svg);
    for (const s of this.layout.shapes || []) {
      const x0 = this.ref(s.xref, "x", s.x0, plot);
      const x1 = this.ref(s.xref, "x", s.x1, plot);
      const y0 = this.ref(s.yref, "y", s.y0, plot);
      const y1 = this.ref(s.yref, "y", s.y1, plot);
      const line = s.line || {};
      const dash = DASHES[line.dash];
      const attrs = {
        stroke: line.width === 0 ? "none" : line.color || "#444", "stroke-width": line.width ?? 2, "stroke-dasharray": dash,
        opacity: s.opacity, class: "fig-shape",
      };
      if (s.type === "line") el("line", { ...attrs, x1: x0, x2: x1, y1: y0, y2: y1 }, g);
      else {
        el("rect", {
          ...attrs, x: Math.min(x0, x1), y: Math.min(y0, y1), width: Math.abs(x1 - x0), height: Math.abs(y1 - y0),
          fill: s.fillcolor || "none",
        }, g);
      }
    }
  }

  drawAnnotations(plot, base) {
    for (const a of this.layout.annotations || []) {
      const size = Number(a.font?.size) || base;
      const x = this.ref(a.xref || "x", "x", a.x, plot);
      const y = this.ref(a.yref || "y", "y", a.y, plot);
      const xa = a.xanchor || "center";
      const anchor = xa === "left" ? "start" : xa === "right" ? "end" : "middle";
      const node = el("text", { x, "text-anchor": anchor, "font-size": size, class: "fig-annotation" }, this.svg);
      if (a.font?.color) node.style.fill = a.font.color;
      const lines = richText(node, a.text || "", size);
      const block = size * 1.25 * lines;
      const ya = a.yanchor || "middle";
      const top = ya === "bottom" ? y - block - 2 : ya === "top" ? y + 2 : y - block / 2;
      node.setAttribute("y", top + size * 0.9);
    }
  }

  drawColorbar(t, plot, base) {
    const cb = t.colorbar || {};
    const thick = cb.thickness ?? 30;
    const size = Number(cb.tickfont?.size) || base;
    const x = plot.x1 + (cb.xpad ?? 10) + 8;
    const top = plot.y0;
    const bottom = plot.y1;
    const g = el("g", { class: "fig-colorbar" }, this.svg);
    const id = `grad-${Math.random().toString(36).slice(2)}`;
    const grad = el("linearGradient", { id, x1: 0, y1: 1, x2: 0, y2: 0 }, el("defs", {}, g));
    for (const [stop, c] of t.colorscale || []) {
      const [r, gr, b, a] = parseColor(c);
      el("stop", { offset: stop, "stop-color": `rgb(${r},${gr},${b})`, "stop-opacity": a }, grad);
    }
    el("rect", { x, y: top, width: thick, height: bottom - top, fill: `url(#${id})` }, g);
    const [lo, hi] = t.zz ? zRange(t, t.zz) : [t.zmin, t.zmax];
    const step = niceStep(hi - lo, Math.max(2, (bottom - top) / 40));
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) {
      const y = bottom - ((v - lo) / (hi - lo)) * (bottom - top);
      el("line", { x1: x + thick, x2: x + thick + 4, y1: y, y2: y, class: "fig-tickmark" }, g);
      el("text", { x: x + thick + 6, y: y + size * 0.35, "font-size": size, class: "fig-tick" }, g).textContent = tickLabel(v, step);
    }
    if (cb.title?.text) {
      richText(el("text", { x, y: top - 6, "font-size": size, class: "fig-tick" }, g), cb.title.text, size);
    }
  }

  legendItems() {
    const scatters = this.traces.filter((t) => t.type === "scatter");
    const colorway = this.data.colorway || DEFAULT_COLORWAY;
    scatters.forEach((t, k) => { t.autoColor = colorway[k % colorway.length]; });
    const shown = this.layout.showlegend;
    const items = scatters.filter((t) => t.showlegend !== false && t.name);
    if (shown === false || (shown === undefined && items.length < 2)) return [];
    return items;
  }

  drawLegend(items, plot, base, outside) {
    const L = this.layout.legend || {};
    const size = Number(L.font?.size) || base;
    const row = size * 1.5;
    if (L.orientation === "h") { // one row, from the legend's x (paper), its y above or inside the plot
      let x = plot.x0 + (L.x ?? 0) * (plot.x1 - plot.x0);
      const cy = plot.y1 - (L.y ?? 1.02) * (plot.y1 - plot.y0) - row / 2;
      const g = el("g", { class: "fig-legend" }, this.svg);
      for (const t of items) {
        legendItem(g, t, x, cy, size);
        x += 24 + 0.6 * size * plain(t.name).length + 18;
      }
      return;
    }
    const width = 24 + 0.6 * size * Math.max(...items.map((t) => plain(t.name).length)) + 8;
    let x = outside ? plot.x1 + 12 : plot.x0 + (L.x ?? 1.02) * (plot.x1 - plot.x0);
    if (!outside && (L.xanchor === "right")) x -= width;
    const y = plot.y0 + (1 - (L.y ?? 1)) * (plot.y1 - plot.y0);
    const g = el("g", { class: "fig-legend" }, this.svg);
    items.forEach((t, k) => legendItem(g, t, x, y + row * (k + 0.5), size));
  }

  // What is under the pointer: the topmost heatmap cell or the nearest marker, with its hover text.
  pick(px, py) {
    for (const t of [...this.traces].reverse()) {
      if (t.hoverinfo === "skip" || t.hoverinfo === "none") continue;
      const { xa, ya } = t;
      if (!xa || !ya) continue;
      const cell = (t.type === "heatmap" || t.type === "image") && t.zz ? cellAt(t, px, py) : null;
      if (cell && t.type === "heatmap") {
        const [i, j] = cell;
        const z = t.zz.values[i * t.zz.cols + j];
        if (!Number.isFinite(z)) continue;
        const x = t.xcats ? t.xcats[j] : (t.x0 ?? 0) + j * (t.dx ?? 1);
        const y = t.ycats ? t.ycats[i] : (t.y0 ?? 0) + i * (t.dy ?? 1);
        return { t, x, y, text: hoverText(t, x, y, z, textAt(t.text, i, j)), point: { x, y, z, point_index: [i, j] } };
      }
      if (cell) { // an image's pixel: its R, G, B
        const [i, j] = cell;
        const k = (i * t.zz.cols + j) * t.zz.depth;
        const rgb = Array.from(t.zz.values.slice(k, k + t.zz.depth));
        return { t, x: j, y: i, text: hoverText(t, j, i, rgb, ""), point: { x: j, y: i, point_index: [i, j] } };
      }
      if (t.type === "scatter" && t.xx && t.yy) {
        let best = null;
        const reach = Math.max(8, (Number(t.marker?.size) || 6) / 2 + 2);
        for (let k = 0; k < Math.min(t.xx.values.length, t.yy.values.length); k++) {
          const d = Math.hypot(xa.px(t.xx.values[k]) - px, ya.px(t.yy.values[k]) - py);
          if (d <= reach && (!best || d < best.d)) best = { d, k };
        }
        if (best) {
          const x = t.xx.values[best.k];
          const y = t.yy.values[best.k];
          return { t, x, y, text: hoverText(t, x, y, undefined, ""), point: { x, y, point_index: best.k, point_number: best.k } };
        }
      }
    }
    return null;
  }
}

// The figure as a PNG for a slide, at twice its size on screen, on white whatever the page's theme: the SVG
// with its styles written in (a file has no page stylesheet to inherit), titles and ticks in dark ink (the
// numbers in cells keep their own black or white), drawn on a canvas.
function savePng(svg, name) {
  const copy = svg.cloneNode(true);
  const shown = svg.querySelectorAll("text, line");
  copy.querySelectorAll("text, line").forEach((node, k) => {
    const css = getComputedStyle(shown[k]);
    if (node.tagName === "line") {
      if (!node.getAttribute("stroke")) node.setAttribute("stroke", css.stroke);
      return;
    }
    if (!node.style.fill) node.setAttribute("fill", "#31333f");
    node.setAttribute("font-weight", css.fontWeight);
  });
  copy.setAttribute("font-family", getComputedStyle(svg).fontFamily);
  copy.setAttribute("xmlns", SVGNS);
  const w = Number(svg.getAttribute("width"));
  const h = Number(svg.getAttribute("height"));
  const picture = new Image();
  picture.onload = () => {
    const canvas = document.createElement("canvas");
    canvas.width = 2 * w;
    canvas.height = 2 * h;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff"; // a slide's white, whatever the page's theme
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(picture, 0, 0, canvas.width, canvas.height);
    const link = document.createElement("a");
    link.download = `${name}.png`;
    link.href = canvas.toDataURL("image/png");
    link.click();
  };
  picture.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(new XMLSerializer().serializeToString(copy));
}

// One figure in `parent` (made once, redrawn when its spec or width changes): `opts` holds the figure's
// JSON (spec), stretch, selectable, name and colorway.
function mountFigure(parent, opts, setStateValue) {
  // A direct child (`:scope >` finds nothing in a shadow root, the component's own parent).
  let root = [...parent.children].find((child) => child.classList.contains("fig-root"));
  if (!root) {
    root = document.createElement("div");
    root.className = "fig-root";
    root.dataset.testid = "cnnvizFigure";
    const tip = document.createElement("div");
    tip.className = "fig-tip";
    tip.hidden = true;
    root.appendChild(tip);
    const save = document.createElement("button");
    save.type = "button";
    save.className = "fig-save";
    save.textContent = "PNG";
    save.title = "Download this figure as a PNG (for a slide)";
    save.setAttribute("aria-label", "Download this figure as a PNG");
    root.appendChild(save);
    parent.appendChild(root);
  }
  root.querySelector(".fig-save").onclick = (event) => {
    event.stopPropagation(); // not a click on the figure (no selection)
    const svg = root.querySelector("svg.fig-svg");
    if (svg) savePng(svg, (root.dataset.title || opts.name || "figure").replace(/[^\w.-]+/g, "_").slice(0, 60));
  };
  const tip = root.querySelector(".fig-tip");
  const fig = JSON.parse(opts.spec);
  const own = fig.layout?.width;
  const render = () => {
    const room = root.clientWidth || parent.clientWidth || own || 700;
    const width = opts.stretch || !own ? room : Math.min(own, room);
    if (root.figWidth === width && root.figSpec === opts.spec) return;
    root.figWidth = width;
    root.figSpec = opts.spec;
    const figure = new Figure(root, fig, opts);
    const svg = figure.draw(width);
    root.querySelector("svg.fig-svg")?.remove();
    root.insertBefore(svg, tip);
    root.figure = figure;
    root.dataset.title = plain(fig.layout?.title?.text || "");
  };
  render();
  if (!root.figObserver) {
    root.figObserver = new ResizeObserver(() => root.figRender && root.figRender());
    root.figObserver.observe(root);
  }
  root.figRender = render;
  root.onmousemove = (event) => {
    const svg = root.querySelector("svg.fig-svg");
    if (!svg || !root.figure) return;
    const box = svg.getBoundingClientRect();
    const hit = root.figure.pick(event.clientX - box.left, event.clientY - box.top);
    root.style.cursor = hit && opts.selectable ? "pointer" : "default";
    if (!hit) { tip.hidden = true; return; }
    tip.textContent = hit.text;
    tip.hidden = false;
    const rootBox = root.getBoundingClientRect();
    tip.style.left = `${event.clientX - rootBox.left + 14}px`;
    tip.style.top = `${event.clientY - rootBox.top + 14}px`;
  };
  root.onmouseleave = () => { tip.hidden = true; };
  root.onclick = opts.selectable ? (event) => {
    const svg = root.querySelector("svg.fig-svg");
    const box = svg.getBoundingClientRect();
    const hit = root.figure.pick(event.clientX - box.left, event.clientY - box.top);
    if (!hit) return;
    const curve = root.figure.traces.indexOf(hit.t);
    const point = { ...hit.point, curve_number: curve };
    setStateValue("selection", { points: [point], point_indices: [point.point_index], box: [], lasso: [] });
  } : null;
}

// One figure (data.spec), or a row of figures side by side (data.specs, data.widths: the columns' shares,
// data.names): one mount for the row, where one element per figure cost the page's first render ~30 ms each.
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data.specs) {
    mountFigure(parentElement, data, setStateValue);
    return;
  }
  let row = [...parentElement.children].find((child) => child.classList.contains("fig-row"));
  if (!row) {
    row = document.createElement("div");
    row.className = "fig-row";
    parentElement.appendChild(row);
  }
  row.style.gridTemplateColumns = data.widths.map((w) => `minmax(0, ${w}fr)`).join(" ");
  while (row.children.length > data.specs.length) row.lastChild.remove();
  while (row.children.length < data.specs.length) {
    const cell = document.createElement("div");
    cell.className = "fig-cell";
    row.appendChild(cell);
  }
  data.specs.forEach((spec, i) => {
    const opts = { spec, stretch: data.stretch, selectable: false, name: data.names[i], colorway: data.colorway };
    mountFigure(row.children[i], opts, setStateValue);
  });
}
