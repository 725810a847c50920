"""Loss and accuracy curves drawn by the browser as SVG from the raw numbers, sized to their column (12-px text
at a desk, enlarged in projector mode).

The live view redraws the curves every 2 s while a run trains, for every student watching a run: a Plotly
figure costs tens of milliseconds of the server's Python (validation, then JSON) on every redraw. Here Python
only sends the lists; a components-v2 element (inline JS, no
iframe, no network) draws two panels, loss and accuracy, train (batch averages) and test (evaluations).
"""

from __future__ import annotations

import streamlit as st

_CSS = """
svg { width: 100%; height: auto; display: block; font: 12px sans-serif; }
.axis { stroke: #888; stroke-width: 1; }
.grid { stroke: #e4e4e4; stroke-width: 1; }
.train { stroke: #1f77b4; fill: none; stroke-width: 1.6; }
.test { stroke: #d62728; fill: none; stroke-width: 1.6; }
.dot { fill: #d62728; }
text { fill: var(--st-text-color, #333); }
"""

_JS = """
export default function(component) {
    const { data, parentElement } = component;
    const NS = 'http://www.w3.org/2000/svg';
    let svg = parentElement.querySelector('svg');
    if (!svg) { svg = document.createElementNS(NS, 'svg'); parentElement.appendChild(svg); }
    svg.setAttribute('data-name', 'curves');
    svg.setAttribute('data-train-points', String(data.train.epoch.length));
    svg.setAttribute('data-test-points', String(data.test.epoch.length));
    svg.cnnvizData = data;
    if (!svg.cnnvizObserver) {
        svg.cnnvizObserver = new ResizeObserver(() => draw(svg, svg.cnnvizData));
        svg.cnnvizObserver.observe(svg);  // its width is the column's (CSS width: 100%)
    }
    draw(svg, data);
}

// Drawing units are CSS pixels up to 640 wide: in a narrow column (a laptop's live view) the text stays 12 px
// and the panels get shorter titles and fewer ticks; in a wide one (projector mode) the 640-unit drawing is
// enlarged with its text.
function draw(svg, data) {
    const NS = 'http://www.w3.org/2000/svg';
    const W = Math.min(640, Math.max(300, Math.round(svg.getBoundingClientRect().width) || 640));
    if (svg.cnnvizDrawn === JSON.stringify([W, data])) return;  // a resize that changed nothing
    svg.cnnvizDrawn = JSON.stringify([W, data]);
    const narrow = W < 480;
    const H = narrow ? 170 : 230, top = 26, bottom = narrow ? 32 : 36, left = narrow ? 36 : 44, right = 10;
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('data-layout', narrow ? 'narrow' : 'wide');
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const el = (tag, attrs, text) => {
        const e = document.createElementNS(NS, tag);
        for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
        if (text !== undefined) e.textContent = text;
        svg.appendChild(e);
        return e;
    };
    const boxW = W / 2;
    const panels = [
        {key: 'loss', title: narrow ? 'Loss' : 'Loss (cross-entropy)', bx: 0},
        {key: 'accuracy', title: 'Accuracy', bx: boxW},
    ];
    const epochs = Math.max(1, data.epochs);
    for (const p of panels) {
        const values = data.train[p.key].concat(data.test[p.key]).filter(v => Number.isFinite(v));
        const ymax = p.key === 'accuracy' ? 1 : Math.max(0.1, ...values) * 1.05;
        const x0 = p.bx + left, w = boxW - left - right, h = H - top - bottom;
        const X = e => x0 + (e / epochs) * w;
        const Y = v => top + h - (v / ymax) * h;
        const title = narrow ? {x: x0 - 20, 'text-anchor': 'start'} : {x: x0 + w / 2, 'text-anchor': 'middle'};
        el('text', {...title, y: 16}, p.title);
        for (let k = 0; k <= 4; k += narrow ? 2 : 1) {
            const v = ymax * k / 4;
            el('line', {x1: x0, x2: x0 + w, y1: Y(v), y2: Y(v), class: 'grid'});
            const label = p.key === 'accuracy' ? `${Math.round(v * 100)}%` : v.toPrecision(2);
            el('text', {x: x0 - 4, y: Y(v) + 4, 'text-anchor': 'end'}, label);
        }
        el('line', {x1: x0, x2: x0 + w, y1: top + h, y2: top + h, class: 'axis'});
        const step = Math.max(1, Math.ceil(epochs / (narrow ? 3 : 8)));
        for (let e = 0; e <= epochs; e += step) {
            el('text', {x: X(e), y: top + h + 14, 'text-anchor': 'middle'}, String(e));
        }
        el('text', {x: x0 + w / 2, y: H - 3, 'text-anchor': 'middle'}, 'epoch');
        for (const name of ['train', 'test']) {
            const xs = data[name].epoch, ys = data[name][p.key];
            const pts = xs.map((e, i) => `${X(e).toFixed(1)},${Y(ys[i]).toFixed(1)}`).join(' ');
            if (xs.length) el('polyline', {points: pts, class: name});
            if (name === 'test') xs.forEach((e, i) => el('circle', {cx: X(e), cy: Y(ys[i]), r: 2.5, class: 'dot'}));
        }
    }
    const legend = narrow ? [left + 20, left + 70] : [W - 120, W - 60];  // narrow: after "Loss"
    el('text', {x: legend[0], y: 16, fill: '#1f77b4'}, '— train');
    el('text', {x: legend[1], y: 16, fill: '#d62728'}, '● test');
}
"""

_curves = st.components.v2.component("cnnviz_curves", css=_CSS, js=_JS)


def curves_chart(train_curve: dict, test_curve: dict, epochs: int, *, key: str) -> None:
    """Loss and accuracy against epochs: train batch averages and test evaluations (lists of floats)."""

    def lists(curve: dict) -> dict:
        return {k: [round(float(v), 5) for v in curve.get(k, [])] for k in ("epoch", "loss", "accuracy")}

    _curves(key=key, data={"train": lists(train_curve), "test": lists(test_curve), "epochs": int(epochs)})
