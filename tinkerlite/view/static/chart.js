/* tinkerlite view: a small SVG line chart (no dependencies).
 * Lines with an optional band, log-y, hover read-out, drag to zoom (double-click resets),
 * export as SVG or PNG. Every colour and font is an attribute, so the exported SVG looks the same. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var TL = (window.TL = window.TL || {});

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) { hi = lo + 1; }
    var span = hi - lo, step = Math.pow(10, Math.floor(Math.log10(span / n)));
    var err = (n * step) / span;
    if (err <= 0.15) step *= 10; else if (err <= 0.35) step *= 5; else if (err <= 0.75) step *= 2;
    var out = [], t = Math.ceil(lo / step) * step;
    for (; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return out;
  }

  /* log-scale ticks at 1, 2, 5 x 10^n (only powers of ten when the range spans many decades) */
  function logTicks(l0, l1) {
    var out = [], mults = l1 - l0 > 3 ? [1] : l1 - l0 > 1 ? [1, 3] : [1, 2, 5];
    for (var n = Math.floor(l0); n <= Math.ceil(l1); n++) {
      mults.forEach(function (m) { var v = m * Math.pow(10, n), lv = Math.log10(v); if (lv >= l0 && lv <= l1) out.push(v); });
    }
    if (out.length < 2) return niceTicks(Math.pow(10, l0), Math.pow(10, l1), 4).filter(function (v) { return v > 0; });
    return out;
  }

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
    return String(+v.toPrecision(4));
  }
  TL.fmt = fmt;

  function Chart(container, opts) {
    this.container = container;
    this.opts = opts || {};
    this.series = [];
    this.zoom = null; // [x0, x1] or null
    this.width = this.opts.width || 500;
    this.height = this.opts.height || 300;
    this.margin = { l: 62, r: 14, t: 26, b: 36 };
  }

  Chart.prototype.setData = function (series) { this.series = series; this.render(); };

  Chart.prototype._extent = function () {
    var xs = [Infinity, -Infinity], ys = [Infinity, -Infinity], logY = this.opts.logY, z = this.zoom;
    this.series.forEach(function (s) {
      s.points.forEach(function (p) {
        if (p[1] === null || (logY && p[1] <= 0)) return;
        if (p[0] < xs[0]) xs[0] = p[0];
        if (p[0] > xs[1]) xs[1] = p[0];
      });
    });
    if (z) xs = [z[0], z[1]];
    this.series.forEach(function (s) {
      var add = function (x, y) {
        if (y === null || !isFinite(y) || (logY && y <= 0) || x < xs[0] || x > xs[1]) return;
        if (y < ys[0]) ys[0] = y;
        if (y > ys[1]) ys[1] = y;
      };
      s.points.forEach(function (p) { add(p[0], p[1]); });
      (s.band || []).forEach(function (b) { add(b[0], b[1]); add(b[0], b[2]); });
    });
    if (!isFinite(xs[0])) xs = [0, 1];
    if (!isFinite(ys[0])) ys = logY ? [1, 10] : [0, 1];
    if (xs[1] === xs[0]) xs = [xs[0] - 0.5, xs[1] + 0.5];
    if (ys[1] === ys[0]) { var d0 = Math.abs(ys[0]) * 0.1 || 0.5; ys = logY ? [ys[0] / 2, ys[1] * 2] : [ys[0] - d0, ys[1] + d0]; }
    return { x: xs, y: ys };
  };

  Chart.prototype.render = function () {
    var self = this, o = this.opts, m = this.margin, W = this.width, H = this.height;
    var ext = this._extent(), logY = o.logY;
    var fy = logY ? function (v) { return Math.log10(v); } : function (v) { return v; };
    var y0 = fy(ext.y[0]), y1 = fy(ext.y[1]);
    if (!(y1 - y0 > 1e-9 * Math.max(1e-300, Math.abs(y0), Math.abs(y1)))) { // flat (up to rounding): give it room
      var half = logY ? 0.3 : Math.abs(y0) * 0.1 || 0.5;
      y0 -= half; y1 += half;
    } else if (!logY) { var pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad; }
    var px = function (x) { return m.l + ((x - ext.x[0]) / (ext.x[1] - ext.x[0])) * (W - m.l - m.r); };
    var py = function (y) { return H - m.b - ((fy(y) - y0) / (y1 - y0)) * (H - m.t - m.b); };
    this.container.textContent = "";
    var svg = el("svg", { xmlns: NS, width: W, height: H, viewBox: "0 0 " + W + " " + H, "class": "tl-chart",
      "font-family": "system-ui, sans-serif", "font-size": "11" }, this.container);
    this.svg = svg;
    el("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }, svg);
    el("text", { x: m.l, y: 16, "font-size": "13", "font-weight": "600", fill: "#222" }, svg).textContent = o.title || "";
    var clipId = "clip" + Math.random().toString(36).slice(2);
    var clip = el("clipPath", { id: clipId }, el("defs", {}, svg));
    el("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b }, clip);
    var yt = logY ? logTicks(y0, y1) : niceTicks(y0, y1, 5);
    yt.forEach(function (t) {
      var y = py(t);
      if (y < m.t - 1 || y > H - m.b + 1) return;
      el("line", { x1: m.l, x2: W - m.r, y1: y, y2: y, stroke: "#eee" }, svg);
      el("text", { x: m.l - 6, y: y + 4, "text-anchor": "end", fill: "#555" }, svg).textContent = fmt(t);
    });
    niceTicks(ext.x[0], ext.x[1], 6).forEach(function (t) {
      var x = px(t);
      el("line", { x1: x, x2: x, y1: H - m.b, y2: H - m.b + 4, stroke: "#999" }, svg);
      el("text", { x: x, y: H - m.b + 16, "text-anchor": "middle", fill: "#555" }, svg).textContent = fmt(t);
    });
    el("text", { x: W - m.r, y: H - 4, "text-anchor": "end", fill: "#777" }, svg).textContent = o.xLabel || "step";
    el("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, fill: "none", stroke: "#ccc" }, svg);
    var plot = el("g", { "clip-path": "url(#" + clipId + ")" }, svg);
    var ok = function (v) { return v !== null && isFinite(v) && (!logY || v > 0); };
    this.series.forEach(function (s) {
      if (s.band && s.band.length) {
        var top = [], bot = [];
        s.band.forEach(function (b) {
          if (ok(b[1]) && ok(b[2])) { top.push(px(b[0]) + "," + py(b[2])); bot.unshift(px(b[0]) + "," + py(b[1])); }
        });
        if (top.length) el("polygon", { points: top.concat(bot).join(" "), fill: s.color, "fill-opacity": "0.15",
          stroke: "none", "class": "tl-band" }, plot);
      }
      var d = "", pen = false;
      s.points.forEach(function (p) {
        if (!ok(p[1])) { pen = false; return; }
        d += (pen ? "L" : "M") + px(p[0]).toFixed(1) + "," + py(p[1]).toFixed(1);
        pen = true;
      });
      if (s.points.length === 1 && ok(s.points[0][1])) {
        el("circle", { cx: px(s.points[0][0]), cy: py(s.points[0][1]), r: 3, fill: s.color }, plot);
      }
      if (d) el("path", { d: d, fill: "none", stroke: s.color, "stroke-width": s.faint ? 1 : 1.8,
        "stroke-opacity": s.faint ? 0.3 : 1, "stroke-dasharray": s.dashed ? "5,3" : null,
        "class": s.faint ? "tl-raw" : "tl-line", "data-name": s.name }, plot);
    });
    var drawn = this.series.some(function (s) { return s.points.some(function (p) { return ok(p[1]); }); });
    if (!drawn) el("text", { x: (W + m.l - m.r) / 2, y: (H + m.t - m.b) / 2, "text-anchor": "middle", fill: "#999",
      "class": "tl-empty" }, svg).textContent = logY ? "no value > 0 to show on a log scale" : "no values";
    var legend = this.series.filter(function (s) { return !s.faint; });
    legend.forEach(function (s, i) {
      var x = W - m.r - 6, y = m.t + 14 + i * 14;
      el("text", { x: x, y: y, "text-anchor": "end", fill: s.color, stroke: "#fff", "stroke-width": 3,
        "paint-order": "stroke" }, svg).textContent = s.name + (s.dashed ? " (dashed)" : "");
    });
    this._interact(svg, px, ext);
  };

  Chart.prototype._interact = function (svg, px, ext) {
    var self = this, m = this.margin, W = this.width, H = this.height;
    var cross = el("line", { y1: m.t, y2: H - m.b, stroke: "#888", "stroke-dasharray": "3,3", visibility: "hidden" }, svg);
    var sel = el("rect", { y: m.t, height: H - m.t - m.b, fill: "#4a90d9", "fill-opacity": "0.15", visibility: "hidden" }, svg);
    var tip = document.createElement("div");
    tip.className = "tl-tip";
    tip.hidden = true;
    this.container.appendChild(tip);
    var toX = function (evt) {
      var r = svg.getBoundingClientRect();
      var sx = ((evt.clientX - r.left) / r.width) * W;
      return { sx: sx, x: ext.x[0] + ((sx - m.l) / (W - m.l - m.r)) * (ext.x[1] - ext.x[0]) };
    };
    var drag = null;
    svg.addEventListener("mousedown", function (evt) { drag = toX(evt).sx; evt.preventDefault(); });
    svg.addEventListener("mousemove", function (evt) {
      var p = toX(evt);
      if (p.sx < m.l || p.sx > W - m.r) { cross.setAttribute("visibility", "hidden"); tip.hidden = true; return; }
      cross.setAttribute("x1", p.sx); cross.setAttribute("x2", p.sx); cross.setAttribute("visibility", "visible");
      if (drag !== null) {
        sel.setAttribute("x", Math.min(drag, p.sx)); sel.setAttribute("width", Math.abs(p.sx - drag));
        sel.setAttribute("visibility", "visible");
      }
      var lines = [];
      self.series.forEach(function (s) {
        if (s.faint || !s.points.length) return;
        var best = null;
        s.points.forEach(function (q) { if (q[1] !== null && (best === null || Math.abs(q[0] - p.x) < Math.abs(best[0] - p.x))) best = q; });
        if (best) lines.push({ c: s.color, t: s.name + " @ " + fmt(best[0]) + ": " + fmt(best[1]) });
      });
      tip.textContent = "";
      lines.forEach(function (l) {
        var row = document.createElement("div");
        row.style.color = l.c;
        row.textContent = l.t;
        tip.appendChild(row);
      });
      tip.hidden = lines.length === 0;
      tip.style.left = Math.min(evt.offsetX + 14, W - 150) + "px";
      tip.style.top = evt.offsetY + 10 + "px";
    });
    svg.addEventListener("mouseleave", function () { cross.setAttribute("visibility", "hidden"); tip.hidden = true; drag = null; sel.setAttribute("visibility", "hidden"); });
    svg.addEventListener("mouseup", function (evt) {
      if (drag === null) return;
      var a = drag, b = toX(evt).sx;
      drag = null;
      sel.setAttribute("visibility", "hidden");
      if (Math.abs(b - a) < 5) return;
      var f = function (sx) { return ext.x[0] + ((sx - m.l) / (W - m.l - m.r)) * (ext.x[1] - ext.x[0]); };
      self.zoom = [f(Math.min(a, b)), f(Math.max(a, b))];
      self.render();
      if (self.opts.onZoom) self.opts.onZoom(self.zoom);
    });
    svg.addEventListener("dblclick", function () { self.zoom = null; self.render(); if (self.opts.onZoom) self.opts.onZoom(null); });
  };

  Chart.prototype.toSVGString = function () {
    var clone = this.svg.cloneNode(true);
    Array.prototype.slice.call(clone.querySelectorAll("[visibility=hidden]")).forEach(function (n) { n.remove(); });
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(clone);
  };

  function download(name, href) {
    var a = document.createElement("a");
    a.href = href; a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
  }

  Chart.prototype.exportSVG = function (name) {
    download(name + ".svg", "data:image/svg+xml;charset=utf-8," + encodeURIComponent(this.toSVGString()));
  };

  /* PNG: the SVG drawn onto a canvas at 2x; calls back with the data URL (and downloads it unless asked not to). */
  Chart.prototype.exportPNG = function (name, done, noDownload) {
    var W = this.width, H = this.height, img = new Image();
    img.onload = function () {
      var c = document.createElement("canvas");
      c.width = W * 2; c.height = H * 2;
      var g = c.getContext("2d");
      g.scale(2, 2); g.drawImage(img, 0, 0);
      var url = c.toDataURL("image/png");
      if (!noDownload) download(name + ".png", url);
      if (done) done(url);
    };
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(this.toSVGString());
  };

  TL.Chart = Chart;
  TL.svgEl = el;
})();
