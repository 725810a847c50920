// The stepper: draws a sliding-window trace that Python computed (cnnviz.draw.stepper.stepper_payload) and
// steps through it in the browser, with no server round trip. Every number shown is a string from the
// payload; window positions come from the payload's taps (a row's taps paired with a column's taps).
// The selected cell goes back to Python (state "cell") only when the user pauses or picks a cell.

const SVGNS = "http://www.w3.org/2000/svg";
const CELL = 60; // one grid cell in SVG units; the SVG scales to its container's width
const GAP = 54; // between panels
const LABEL = 40; // room for row numbers left of a grid
const HEAD = 78; // room above a grid: its title and column numbers
const SETTLE_MS = 800; // a pause in the stepping this long tells Python the cell (`settleLater`)
const SPEEDS = [
  ["slow (1.2 s a step)", 1200],
  ["normal (0.6 s)", 600],
  ["fast (0.25 s)", 250],
  ["very fast (0.1 s)", 100],
];
const LOOKS = {
  window: "the window: input cells read for this output cell",
  current: "output cell being computed",
  pad: "padding",
  inserted: "inserted zero (not input data)",
  never: "input cell no window reads",
  winner: "the value pooling keeps",
  mark: "marked output cell",
  lit: "output cells that read the hovered input cell",
};

function el(tag, attrs = {}, parent = null, ns = SVGNS) {
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) node.setAttribute(k, v);
  }
  if (parent) parent.appendChild(node);
  return node;
}

function html(tag, attrs = {}, parent = null, text = null) {
  const node = el(tag, attrs, parent, null);
  if (text !== null) node.textContent = text;
  return node;
}

// Colour of a cell's level: -1..1 on the diverging scale, 0..1 on the magnitude scale (viridis), 0..1 grey
// for a picture. The stops are the palette's (data.colors, from cnnviz.draw.palette); interpolated between
// neighbours as cnnviz.draw.palette.scale_rgb does.
function along(stops, t) {
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const k = Math.min(Math.floor(x), stops.length - 2);
  const f = x - k;
  return stops[k].map((p, n) => Math.round(p + (stops[k + 1][n] - p) * f));
}

function fill(level, scale, colors) {
  if (level === null || level === undefined) return null;
  if (scale === "grey") {
    const v = Math.round(255 * Math.min(Math.max(level, 0), 1));
    return [v, v, v];
  }
  if (scale === "diverging") return along(colors.diverging, (level + 1) / 2);
  return along(colors.magnitude, level);
}

// Black or white text, whichever has the higher WCAG contrast on the cell (cnnviz.draw.palette.ink).
function luminance(rgb) {
  const lin = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}

function ink(rgb) {
  if (!rgb) return null;
  const l = luminance(rgb);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? "#000000" : "#ffffff";
}

function longest(texts) {
  let n = 1;
  for (const row of texts || []) for (const t of row) n = Math.max(n, t.length);
  return n;
}

function fontFor(chars) {
  return CELL * Math.min(0.5, 1.75 / chars);
}

class Stepper {
  constructor(root, data, setStateValue) {
    this.root = root;
    this.data = data;
    this.setStateValue = setStateValue;
    this.steps = data.steps;
    this.index = 0;
    this.timer = null;
    this.sent = JSON.stringify(data.cell);
    this.uid = Math.random().toString(36).slice(2);
    this.build();
  }

  // ---- building the DOM once per payload ----

  build() {
    const root = this.root;
    root.replaceChildren();
    root.dataset.nSteps = String(this.data.n_steps);
    const bar = html("div", { class: "stepper-bar" }, root);
    this.label = html("div", { class: "stepper-label", "aria-live": "polite" }, bar);
    this.buildControls(bar);
    const figure = html("div", { class: "stepper-figure" }, root);
    this.svg = el("svg", { class: "stepper-svg", role: "img" }, figure);
    this.buildDefs();
    this.buildPanels();
    this.sum = html("div", { class: "stepper-sum", "data-testid": "stepperSum" }, root);
    this.note = html("div", { class: "stepper-note" }, root);
    this.buildLegend();
    this.buildReaders();
  }

  buildControls(bar) {
    const controls = html("div", { class: "stepper-controls" }, bar);
    const button = (name, text, title, act) => {
      const b = html("button", { type: "button", class: `stepper-btn stepper-${name}`, title }, controls, text);
      b.addEventListener("click", () => {
        act();
        this.root.focus({ preventScroll: true });
      });
      return b;
    };
    this.btnFirst = button("first", "|◀ First", "First step (Home)", () => this.jump(0));
    this.btnPrev = button("prev", "◀ Previous", "Previous step (Left arrow)", () => this.prev());
    this.btnPlay = button("play", "▶ Play", "Play or pause (Space)", () => this.toggle());
    this.btnNext = button("next", "Next ▶", "Next step (Right arrow)", () => this.next());
    this.btnLast = button("last", "Last ▶|", "Last step (End)", () => this.jump(this.steps.length - 1));
    const scrub = html("label", { class: "stepper-scrub" }, controls);
    html("span", { class: "stepper-small" }, scrub, "Step");
    this.scrubber = html(
      "input",
      { type: "range", min: "0", max: String(this.steps.length - 1), step: "1", value: "0", "aria-label": "Step" },
      scrub,
    );
    this.scrubber.addEventListener("input", () => this.show(Number(this.scrubber.value)));
    this.scrubber.addEventListener("change", () => this.send());
    const speed = html("label", { class: "stepper-speed" }, controls);
    html("span", { class: "stepper-small" }, speed, "Speed");
    this.speed = html("select", { "aria-label": "Play speed" }, speed);
    for (const [name, ms] of SPEEDS) {
      const option = html("option", { value: String(ms) }, this.speed, name);
      if (ms === (this.data.speed || 600)) option.selected = true;
    }
    // The speed goes back to Python (state "speed"): the GIF export plays at it and the link keeps it.
    this.speed.addEventListener("change", () => {
      if (this.timer) this.play();
      this.setStateValue("speed", Number(this.speed.value));
    });
    button("full", "Full screen", "Show the stepper alone on the screen", () => this.fullscreen());
    html(
      "div",
      { class: "stepper-keys" },
      bar,
      "Keys: ← → step · Space play/pause · Home/End first/last · click an output cell to go there · " +
        "hover an input cell to see which outputs read it",
    );
  }

  buildDefs() {
    const defs = el("defs", {}, this.svg);
    const pattern = (name, draw) => {
      const p = el(
        "pattern",
        { id: `${name}-${this.uid}`, width: "12", height: "12", patternUnits: "userSpaceOnUse" },
        defs,
      );
      draw(p);
    };
    pattern("hatch", (p) => el("path", { d: "M-3,3 l6,-6 M0,12 l12,-12 M9,15 l6,-6", class: "hatch-pad" }, p));
    pattern("cross", (p) => {
      el("path", { d: "M0,0 l12,12 M12,0 l-12,12", class: "hatch-never" }, p);
    });
    pattern("dots", (p) => el("circle", { cx: "6", cy: "6", r: "2.2", class: "dots-inserted" }, p));
  }

  panelList() {
    const d = this.data;
    const first = this.steps[0];
    const kh = first.products.length;
    const kw = first.products[0].length;
    const index = (n) => Array.from({ length: n }, (_, i) => String(i));
    const panels = [{ name: "input", grid: d.input }];
    if (d.kernel) panels.push({ name: "kernel", grid: d.kernel });
    panels.push({ name: "products", grid: { rows: index(kh), cols: index(kw), scale: d.output.scale } });
    if (d.pooling) panels.push({ name: "gradient", grid: { rows: index(kh), cols: index(kw), scale: "diverging" } });
    panels.push({ name: "output", grid: d.output });
    return panels;
  }

  buildPanels() {
    const d = this.data;
    const panels = this.panelList();
    const productChars = Math.max(...this.steps.map((s) => longest(s.products)), ...this.steps.map((s) => longest(s.grad)));
    let x = 0;
    let height = 0;
    this.grids = {};
    for (const panel of panels) {
      const { grid } = panel;
      const rows = grid.rows.length;
      const cols = grid.cols.length;
      const title = d.titles[panel.name] || panel.name;
      const width = Math.max(cols * CELL, title.length * 15 + 30 - LABEL);
      const g = el("g", { class: `panel panel-${panel.name}`, transform: `translate(${x + LABEL},${HEAD})` }, this.svg);
      const titleNode = el("text", { class: "panel-title", x: "0", y: String(-HEAD + 26) }, g);
      titleNode.textContent = title;
      const numbered = cols <= 40;
      if (numbered) {
        grid.cols.forEach((c, n) => {
          const t = el("text", { class: "axis-label", x: String((n + 0.5) * CELL), y: "-10" }, g);
          t.textContent = c;
        });
        grid.rows.forEach((r, n) => {
          const t = el("text", { class: "axis-label row", x: "-8", y: String((n + 0.5) * CELL) }, g);
          t.textContent = r;
        });
      }
      const chars = panel.name === "products" || panel.name === "gradient" ? productChars : longest(grid.text);
      this.grids[panel.name] = this.buildCells(g, panel.name, grid, fontFor(chars));
      this.grids[panel.name].title = titleNode;
      this.grids[panel.name].group = g;
      x += LABEL + width + GAP;
      height = Math.max(height, HEAD + rows * CELL + 12);
    }
    this.svg.setAttribute("viewBox", `0 0 ${x - GAP + 8} ${height}`);
    this.svg.dataset.aspect = String((x - GAP + 8) / height);
    for (const [i, j] of d.marks) {
      const cell = this.grids.output.cells[i][j];
      this.outline(this.grids.output.marks, i, j, "mark");
      el("text", { class: "mark-glyph", x: String((j + 1) * CELL - 11), y: String(i * CELL + 28) }, this.grids.output.marks).textContent = "!";
      cell.node.classList.add("marked");
    }
  }

  buildCells(g, name, grid, fontSize) {
    const layer = el("g", { class: "cells" }, g);
    const under = el("g", { class: "overlay" }, g);
    const marks = el("g", { class: "marks" }, g);
    const over = el("g", { class: "overlay-top" }, g);
    const cells = grid.rows.map((_, r) =>
      grid.cols.map((_, c) => {
        const node = el("g", { class: `cell grid-${name}`, "data-grid": name, "data-r": String(r), "data-c": String(c) }, layer);
        const rect = el("rect", { x: String(c * CELL), y: String(r * CELL), width: String(CELL), height: String(CELL), class: "bg" }, node);
        const kind = grid.kind ? grid.kind[r][c] : 0;
        if (kind) {
          const pat = { 1: "hatch", 2: "dots", 3: "cross" }[kind];
          const cls = { 1: "pad", 2: "inserted", 3: "never" }[kind];
          node.classList.add(cls);
          el("rect", { x: String(c * CELL), y: String(r * CELL), width: String(CELL), height: String(CELL), fill: `url(#${pat}-${this.uid})`, class: "pattern" }, node);
        }
        const text = el("text", { x: String((c + 0.5) * CELL), y: String((r + 0.5) * CELL), "font-size": fontSize.toFixed(1) }, node);
        const cell = { node, rect, text };
        if (grid.text) this.paint(cell, grid.text[r][c], grid.level[r][c], grid.scale);
        else this.paint(cell, "", grid.level ? grid.level[r][c] : null, grid.scale);
        return cell;
      }),
    );
    return { cells, overlay: under, marks, top: over };
  }

  paint(cell, text, level, scale) {
    const rgb = fill(level, scale, this.data.colors);
    if (rgb && !cell.node.classList.contains("pad")) {
      cell.rect.style.fill = `rgb(${rgb.join(",")})`;
      cell.text.style.fill = ink(rgb);
    } else {
      cell.rect.style.fill = "";
      cell.text.style.fill = "";
    }
    cell.text.textContent = text;
    cell.node.dataset.value = text;
  }

  buildLegend() {
    const d = this.data;
    const kinds = new Set(d.input.kind.flat());
    const shown = ["window", "current"];
    if (kinds.has(1)) shown.push("pad");
    if (kinds.has(2)) shown.push("inserted");
    if (kinds.has(3)) shown.push("never");
    if (this.steps.some((s) => s.winner)) shown.push("winner");
    if (d.marks.length) shown.push("mark");
    shown.push("lit");
    const legend = html("div", { class: "stepper-legend" }, this.root);
    legend.append(this.note); // the note (which block is stepped) shares the legend's line when it fits
    for (const look of shown) {
      const item = html("span", { class: "legend-item" }, legend);
      const svg = el("svg", { viewBox: "-6 -6 72 72", class: "legend-swatch" }, item);
      const pat = { pad: "hatch", inserted: "dots", never: "cross" }[look];
      el("rect", { x: "0", y: "0", width: "60", height: "60", class: `bg swatch-${look}` }, svg);
      if (pat) {
        el("rect", { x: "0", y: "0", width: "60", height: "60", fill: `url(#${pat}-${this.uid})` }, svg);
      } else {
        this.outline(svg, 0, 0, look);
      }
      html("span", {}, item, look === "mark" && d.mark_caption ? d.mark_caption : LOOKS[look]);
    }
  }

  // For each drawn input cell, the steps whose window reads it (pairing each step's row and column taps).
  buildReaders() {
    const d = this.data;
    this.readers = d.input.rows.map(() => d.input.cols.map(() => []));
    this.stepAt = d.output.rows.map(() => d.output.cols.map(() => -1));
    this.steps.forEach((s, n) => {
      this.stepAt[s.ri][s.rj] = n;
      for (const r of d.row_taps[s.ri]) for (const c of d.col_taps[s.rj]) this.readers[r][c].push(n);
    });
    this.grids.input.cells.flat().forEach((cell) => {
      const r = Number(cell.node.dataset.r);
      const c = Number(cell.node.dataset.c);
      cell.node.addEventListener("mouseenter", () => this.light(this.readers[r][c]));
      cell.node.addEventListener("mouseleave", () => this.light([]));
    });
    this.grids.output.cells.flat().forEach((cell) => {
      const n = this.stepAt[Number(cell.node.dataset.r)][Number(cell.node.dataset.c)];
      cell.node.classList.add("clickable");
      cell.node.addEventListener("click", () => {
        this.pause(false);
        this.pick(n);
      });
      cell.node.addEventListener("mouseenter", () => this.preview(n));
      cell.node.addEventListener("mouseleave", () => this.preview(-1));
    });
  }

  // ---- drawing one step ----

  outline(layer, r, c, look, inset = 0) {
    const x = c * CELL + inset;
    const y = r * CELL + inset;
    const size = CELL - 2 * inset;
    if (look === "winner") {
      // A dark line under the yellow dashes, so the winner shows on every cell colour and on white.
      el("rect", { x: String(x), y: String(y), width: String(size), height: String(size), class: "look look-winner-under" }, layer);
    }
    const rect = el("rect", { x: String(x), y: String(y), width: String(size), height: String(size), class: `look look-${look}` }, layer);
    if (look === "current") {
      el("rect", { x: String(x + 9), y: String(y + 9), width: String(size - 18), height: String(size - 18), class: "look look-current-inner" }, layer);
    }
    return rect;
  }

  windowCells(n) {
    const s = this.steps[n];
    return [this.data.row_taps[s.ri], this.data.col_taps[s.rj]];
  }

  show(n) {
    n = Math.max(0, Math.min(this.steps.length - 1, n));
    this.index = n;
    const s = this.steps[n];
    const d = this.data;
    this.label.textContent = `Step ${s.k} of ${d.n_steps} · output cell (${s.i}, ${s.j})`;
    this.sum.textContent = s.expr;
    Object.assign(this.root.dataset, { step: String(s.k), i: String(s.i), j: String(s.j) });
    this.scrubber.value = String(n);

    const input = this.grids.input;
    input.overlay.replaceChildren();
    input.top.replaceChildren();
    const [rows, cols] = this.windowCells(n);
    for (const r of rows) for (const c of cols) this.outline(input.overlay, r, c, "window").setAttribute("data-window", `${r},${c}`);
    if (s.winner) this.star(input.top, rows[s.winner[0]], cols[s.winner[1]]);
    this.grids.products.top.replaceChildren();
    if (s.winner) this.star(this.grids.products.top, s.winner[0], s.winner[1]);
    this.grids.products.cells.forEach((row, u) =>
      row.forEach((cell, v) => this.paint(cell, s.products[u][v], s.level[u][v], d.output.scale)),
    );
    if (this.grids.gradient) this.showGradient(s);

    const out = this.grids.output;
    this.steps.forEach((t, m) => {
      const cell = out.cells[t.ri][t.rj];
      const filled = m <= n;
      if (filled) this.paint(cell, d.output.text[t.ri][t.rj], d.output.level[t.ri][t.rj], d.output.scale);
      else this.paint(cell, "", null, d.output.scale);
      cell.node.classList.toggle("empty", !filled);
    });
    out.overlay.replaceChildren();
    this.outline(out.overlay, s.ri, s.rj, "current");
    const atEnd = n === this.steps.length - 1;
    const atStart = n === 0;
    this.btnPrev.disabled = atStart && !d.prev_block;
    this.btnFirst.disabled = atStart;
    this.btnNext.disabled = atEnd && !d.next_block;
    this.btnLast.disabled = atEnd;
    this.note.textContent = d.whole
      ? ""
      : `Stepping output rows ${d.region[0]}..${d.region[2]}, columns ${d.region[1]}..${d.region[3]} of ` +
        `${d.shape[0]}x${d.shape[1]}; Next past the last cell loads the next block.`;
  }

  showGradient(s) {
    const grid = this.grids.gradient;
    grid.title.textContent = `${this.data.titles.gradient} (g = ${s.g})`;
    grid.top.replaceChildren();
    grid.cells.forEach((row, u) =>
      row.forEach((cell, v) => {
        const text = s.grad[u][v];
        const routed = text !== "0";
        this.paint(cell, text, routed ? 0.45 : 0, "sequential");
        cell.node.classList.toggle("routed", routed);
      }),
    );
    if (s.winner) this.star(grid.top, s.winner[0], s.winner[1]);
  }

  star(layer, r, c) {
    this.outline(layer, r, c, "winner", 5);
    const t = el("text", { class: "winner-glyph", x: String(c * CELL + 16), y: String(r * CELL + 18) }, layer);
    t.textContent = "★";
  }

  light(list) {
    const out = this.grids.output;
    out.top.replaceChildren();
    for (const n of list) {
      const s = this.steps[n];
      this.outline(out.top, s.ri, s.rj, "lit", 4);
    }
    this.root.dataset.lit = String(list.length);
  }

  preview(n) {
    const input = this.grids.input;
    input.top.querySelectorAll(".look-preview").forEach((e) => e.remove());
    if (n < 0) return;
    const [rows, cols] = this.windowCells(n);
    for (const r of rows) for (const c of cols) this.outline(input.top, r, c, "preview", 6);
  }

  // ---- moving ----

  next() {
    this.pause(false);
    if (this.index < this.steps.length - 1) this.show(this.index + 1);
    else if (this.data.next_block) this.sendCell(this.data.next_block);
    this.settleLater();
  }

  prev() {
    this.pause(false);
    if (this.index > 0) this.show(this.index - 1);
    else if (this.data.prev_block) this.sendCell(this.data.prev_block);
    this.settleLater();
  }

  // Stepping (buttons, keys) stays in the browser; picking a cell (a click, the scrubber let go) or
  // pausing tells Python, and so does a pause in the stepping (SETTLE_MS without a step): what the page
  // says and exports about the selected cell follows the stepper, one rerun after the student stops.
  jump(n) {
    this.pause(false);
    this.show(n);
    this.settleLater();
  }

  settleLater() {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      if (!this.timer) this.send();
    }, SETTLE_MS);
  }

  pick(n) {
    this.jump(n);
    this.send();
  }

  goCell(cell) {
    const [i, j] = cell;
    const s = this.steps.findIndex((t) => t.i === i && t.j === j);
    this.show(s < 0 ? 0 : s);
    this.sent = JSON.stringify(cell);
  }

  toggle() {
    if (this.timer) this.pause(true);
    else this.play();
  }

  play() {
    clearInterval(this.timer);
    if (this.index >= this.steps.length - 1) this.show(0);
    this.timer = setInterval(() => {
      if (this.index >= this.steps.length - 1) this.pause(true);
      else this.show(this.index + 1);
    }, Number(this.speed.value));
    this.btnPlay.textContent = "❚❚ Pause";
    this.root.dataset.playing = "1";
  }

  pause(tell) {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.btnPlay.textContent = "▶ Play";
    this.root.dataset.playing = "0";
    if (tell) this.send();
  }

  send() {
    const s = this.steps[this.index];
    this.sendCell([s.i, s.j]);
  }

  sendCell(cell) {
    const text = JSON.stringify(cell);
    if (text === this.sent) return;
    this.sent = text;
    this.setStateValue("cell", cell);
  }

  fullscreen() {
    const doc = this.root.ownerDocument;
    if (doc.fullscreenElement) doc.exitFullscreen();
    else this.root.requestFullscreen?.();
  }

  key(event) {
    const act = {
      ArrowRight: () => this.next(),
      ArrowLeft: () => this.prev(),
      " ": () => this.toggle(),
      Home: () => this.jump(0),
      End: () => this.jump(this.steps.length - 1),
    }[event.key];
    if (!act || event.target?.tagName === "SELECT") return;
    event.preventDefault();
    act();
  }

  stop() {
    clearInterval(this.timer);
    clearTimeout(this.settleTimer);
    this.timer = null;
  }
}

// The payload every session shares comes as one JSON string ("shared", ui/stepper.py), parsed once per digest.
let sharedDigest = null;
let sharedPayload = null;

function payloadOf(data) {
  if (typeof data.shared !== "string") return data;
  const { shared, ...own } = data;
  if (sharedDigest !== own.digest) {
    sharedPayload = JSON.parse(shared);
    sharedDigest = own.digest;
  }
  return { ...sharedPayload, ...own };
}

export default function (component) {
  const { parentElement, setStateValue } = component;
  const data = payloadOf(component.data);
  let root = parentElement.querySelector(".stepper");
  if (!root) {
    root = html("div", { class: "stepper", tabindex: "0", "data-testid": "stepper" }, parentElement);
    root.addEventListener("keydown", (event) => root.stepper?.key(event));
  }
  // Projector mode: bigger label, sum and legend; the keys hint hidden.
  root.classList.toggle("stepper-big", Boolean(data.big));
  let stepper = root.stepper;
  if (!stepper || stepper.data.digest !== data.digest) {
    stepper?.stop();
    stepper = new Stepper(root, data, setStateValue);
    root.stepper = stepper;
    stepper.goCell(data.cell);
  } else {
    stepper.setStateValue = setStateValue;
    const cell = JSON.stringify(data.cell);
    // The cell this stepper told Python comes back with the rerun it caused: the student may have stepped on
    // meanwhile, so it is not a reason to move.
    if (JSON.stringify(stepper.data.cell) !== cell && cell !== stepper.sent) stepper.goCell(data.cell);
    stepper.data = data;
  }
  return () => stepper.stop();
}
