/* tinkerlite view: the page. Plain ES5-ish JavaScript, no dependencies, no build step.
 * Data comes from the viewer's /api/... routes, or from window.TL_SNAPSHOT in an exported copy. */
(function () {
  "use strict";
  var TL = window.TL, fmt = TL.fmt;
  var SNAP = window.TL_SNAPSHOT || null;
  var tokTip = document.getElementById("tok-tip");
  var COLORS = ["#2680c2", "#e12d39", "#3ebd93", "#f0b429", "#9446ed", "#f35627", "#0e7c86", "#b44d12"];
  var S = { runs: [], byId: {}, selected: [], metrics: {}, tab: "runs", charts: null, ema: 0, logY: false,
    xAxis: "step", zooms: {}, onlyDiff: false, chartObjs: [] };

  function api(path, body) {
    if (SNAP) {
      var key = path.split("?")[0];
      if (body !== undefined) return Promise.reject(new Error("sampling needs a live viewer: run `tinkerlite view`"));
      return key in SNAP ? Promise.resolve(SNAP[key]) : Promise.reject(new Error("not in this snapshot: " + key));
    }
    var init = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    return fetch(path, init).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.error || r.statusText);
        return j;
      });
    });
  }

  function h(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "on") for (var ev in attrs.on) e.addEventListener(ev, attrs.on[ev]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) e.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function color(id) { return COLORS[id % COLORS.length]; }
  function view() { return document.getElementById("view"); }
  function current() { return S.selected.length ? S.byId[S.selected[0]] : null; }
  function showError(where, err) { where.appendChild(h("p", { "class": "err", text: String(err && err.message || err) })); }
  function badge(status) { return h("span", { "class": "badge " + status, text: status }); }
  function dur(s) { if (s === null || s === undefined) return "–"; s = Math.round(s); return s < 60 ? s + " s" : s < 3600 ? Math.floor(s / 60) + "m " + (s % 60) + "s" : Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m"; }

  /* ---------- runs and metrics ---------- */
  function loadRuns() {
    return api("/api/runs").then(function (j) {
      S.runs = j.runs.slice().sort(function (a, b) { return (b.updated || 0) - (a.updated || 0); });
      S.runs.forEach(function (r) { S.byId[r.id] = r; });
      if (!S.selected.length && S.runs.length) S.selected = [S.runs[0].id];
      renderPicker();
    });
  }

  function loadMetrics(id) {
    var m = S.metrics[id];
    var url = "/api/runs/" + id + "/metrics" + (m ? "?since=" + m.offset + "&wall=" + m.wall : "");
    return api(url).then(function (j) {
      if (!m || j.reset) { S.metrics[id] = { offset: j.offset, wall: j.wall, rows: j.rows, series: j.series }; return true; }
      var grew = j.rows > 0;
      Object.keys(j.series).forEach(function (k) { m.series[k] = (m.series[k] || []).concat(j.series[k]); });
      m.offset = j.offset; m.wall = j.wall; m.rows += j.rows;
      return grew;
    });
  }
  function ensureMetrics(ids) { return Promise.all(ids.filter(function (id) { return !S.metrics[id]; }).map(loadMetrics)); }

  function renderPicker() {
    var box = document.getElementById("run-picker");
    box.textContent = "";
    S.runs.forEach(function (r) {
      var m = S.metrics[r.id];
      var cb = h("input", { type: "checkbox", id: "pick-" + r.id, "data-run": r.id, checked: S.selected.indexOf(r.id) >= 0,
        on: { change: function () { toggle(r.id, this.checked); } } });
      var sw = h("span", { "class": "swatch" }); sw.style.background = color(r.id);
      box.appendChild(h("div", { "class": "picker-row" }, [cb, sw, h("label", { "for": "pick-" + r.id, title: r.path, text: r.name }),
        badge(r.status), h("span", { "class": "rows small muted", "data-run-rows": r.id, text: m ? m.rows + "r" : "" })]));
    });
  }
  function toggle(id, on) {
    S.selected = S.selected.filter(function (x) { return x !== id; });
    if (on) S.selected.push(id);
    S.charts = null;
    S.dataStart = 0;
    render();
  }

  /* ---------- tabs ---------- */
  var TABS = {};
  function render() {
    var tab = (location.hash || "#runs").slice(1);
    S.tab = TABS[tab] ? tab : "runs";
    Array.prototype.forEach.call(document.querySelectorAll("#tabs a"), function (a) { a.classList.toggle("active", a.getAttribute("data-tab") === S.tab); });
    var v = view();
    tokTip.hidden = true; // its token may be about to go
    v.textContent = "";
    v.setAttribute("data-view", S.tab);
    renderPicker();
    var done = TABS[S.tab](v);
    Promise.resolve(done).catch(function (e) { showError(v, e); }).then(function () { v.setAttribute("data-ready", S.tab); });
  }

  TABS.runs = function (v) {
    var rows = S.runs.map(function (r) {
      var cb = h("input", { type: "checkbox", checked: S.selected.indexOf(r.id) >= 0, on: { change: function () { toggle(r.id, this.checked); } } });
      return h("tr", { "data-run": r.id }, [h("td", {}, [cb]), h("td", { title: r.path, text: r.name }), h("td", {}, [badge(r.status)]),
        h("td", { text: r.recipe || "–" }), h("td", { text: r.model || "–" }), h("td", { text: r.renderer || "–" }),
        h("td", { "class": "num", text: r.steps === null || r.steps === undefined ? "–" : String(r.steps) }),
        h("td", { "class": "num", title: r.loss_key || "", text: r.last_loss === null ? "–" : fmt(r.last_loss) + " (" + r.loss_key + ")" }),
        h("td", { "class": "num", text: dur(r.wall_s) }), h("td", { "class": "num", text: String(r.n_checkpoints) }),
        h("td", { "class": "mono small", text: r.path })]);
    });
    v.appendChild(h("table", { id: "runs-table" }, [h("tr", {}, ["", "run", "status", "recipe", "model", "renderer", "steps", "last loss", "wall time", "ckpts", "path"].map(function (t) { return h("th", { text: t }); }))].concat(rows)));
    if (!S.runs.length) v.appendChild(h("p", { "class": "muted", text: "No runs found." }));
  };

  function allKeys() {
    var ks = {};
    S.selected.forEach(function (id) { Object.keys((S.metrics[id] || { series: {} }).series).forEach(function (k) { ks[k] = 1; }); });
    return Object.keys(ks).sort();
  }
  function defaultCharts(keys) {
    var has = function (k) { return keys.indexOf(k) >= 0; }, out = [];
    [["train_mean_nll", "test/nll"], ["env/all/reward/total", "test/env/all/reward/total"], ["dpo_loss", "test/dpo_loss"],
      ["accuracy", "test/accuracy"], ["teacher_kl"], ["loss:sum"], ["learning_rate", "optim/lr"], ["grad_norm:mean"],
      ["optim/entropy"]].forEach(function (g) {
      var present = g.filter(has);
      if (g[0] === "learning_rate" && present.length === 2) present = ["learning_rate"];
      if (present.length) out.push(present);
    });
    if (!out.length) out = keys.slice(0, 4).map(function (k) { return [k]; });
    return out;
  }
  function emaSmooth(pts, a) {
    if (!a) return pts;
    var acc = 0, wsum = 0;
    return pts.map(function (p) {
      if (p[1] === null) return p;
      acc = a * acc + (1 - a) * p[1]; wsum = a * wsum + (1 - a);
      return [p[0], acc / wsum];
    });
  }
  function bandFor(series, k, xi) {
    var lo = series[k + ":min"] || series[k + "/min"], hi = series[k + ":max"] || series[k + "/max"];
    var sd = series[k + ":std"] || series[k + "/std"], mid = series[k];
    if (lo && hi && lo.length === hi.length) return lo.map(function (p, i) { return [p[xi], p[2], hi[i][2]]; });
    if (sd && mid && sd.length === mid.length) return mid.map(function (p, i) { return [p[xi], p[2] - sd[i][2], p[2] + sd[i][2]]; });
    return null;
  }
  function chartSeries(keys) {
    var xi = S.xAxis === "time" ? 1 : 0, out = [];
    S.selected.forEach(function (id) {
      var m = S.metrics[id];
      if (!m) return;
      keys.forEach(function (k, ki) {
        var raw = (m.series[k] || []).map(function (p) { return [p[xi], p[2]]; });
        if (!raw.length) return;
        var name = (S.selected.length > 1 ? S.byId[id].name + " " : "") + k;
        if (S.ema > 0) out.push({ name: name + " raw", color: color(id), points: raw, faint: true, dashed: ki > 0 });
        out.push({ name: name, color: color(id), points: emaSmooth(raw, S.ema), dashed: ki > 0, band: bandFor(m.series, k, xi) });
      });
    });
    return out;
  }

  function drawCharts(holder, groups) {
    holder.textContent = "";
    S.chartObjs = [];
    groups.forEach(function (keys, gi) {
      var box = h("div", { "class": "chart-box", "data-keys": keys.join(",") });
      var holderDiv = h("div", { "class": "chart-holder" });
      var id = keys.join(",");
      var chart = new TL.Chart(holderDiv, { title: keys.join(" + "), logY: S.logY, xLabel: S.xAxis === "time" ? "wall time (s)" : "step",
        onZoom: function (z) { S.zooms[id] = z; } });
      chart.zoom = S.zooms[id] || null;
      var fname = keys.join("_").replace(/[^A-Za-z0-9_.-]+/g, "_");
      box.appendChild(h("div", { "class": "chart-actions" }, [
        h("button", { "class": "export-svg", text: "SVG", on: { click: function () { chart.exportSVG(fname); } } }),
        h("button", { "class": "export-png", text: "PNG", on: { click: function () { chart.exportPNG(fname); } } }),
        h("button", { text: "×", title: "remove this chart", on: { click: function () { S.charts.splice(gi, 1); drawCharts(holder, S.charts); } } })]));
      box.appendChild(holderDiv);
      holder.appendChild(box);
      chart.keys = keys;
      chart.setData(chartSeries(keys));
      S.chartObjs.push(chart);
    });
  }

  TABS.curves = function (v) {
    return ensureMetrics(S.selected).then(function () {
      var keys = allKeys();
      if (!S.charts) S.charts = defaultCharts(keys);
      var holder = h("div", { "class": "charts", id: "charts" });
      var add = h("select", { id: "add-chart", on: { change: function () { if (this.value) { S.charts.push([this.value]); drawCharts(holder, S.charts); } } } },
        [h("option", { value: "", text: "add a chart…" })].concat(keys.map(function (k) { return h("option", { value: k, text: k }); })));
      var ema = h("input", { type: "range", id: "ema", min: 0, max: 0.99, step: 0.01, value: S.ema, on: { input: function () {
        S.ema = +this.value; emaLabel.textContent = S.ema.toFixed(2); drawCharts(holder, S.charts); } } });
      var emaLabel = h("span", { text: S.ema.toFixed(2) });
      var logY = h("input", { type: "checkbox", id: "logy", checked: S.logY, on: { change: function () { S.logY = this.checked; drawCharts(holder, S.charts); } } });
      var xSel = h("select", { id: "xaxis", on: { change: function () { S.xAxis = this.value; S.zooms = {}; drawCharts(holder, S.charts); } } },
        [h("option", { value: "step", text: "x: step" }), h("option", { value: "time", text: "x: wall time" })]);
      xSel.value = S.xAxis;
      v.appendChild(h("div", { "class": "toolbar" }, [xSel, h("label", {}, ["EMA ", ema, " ", emaLabel]), h("label", {}, [logY, " log y"]), add,
        h("button", { text: "reset zoom", on: { click: function () { S.zooms = {}; drawCharts(holder, S.charts); } } }),
        h("span", { "class": "muted small", text: "drag on a chart to zoom, double-click to reset" })]));
      v.appendChild(holder);
      drawCharts(holder, S.charts);
      if (!S.selected.length) v.appendChild(h("p", { "class": "muted", text: "Tick a run on the left." }));
    });
  };

  function flatten(obj, prefix, out) {
    if (obj && typeof obj === "object" && !Array.isArray(obj)) {
      Object.keys(obj).forEach(function (k) { flatten(obj[k], prefix ? prefix + "." + k : k, out); });
    } else out[prefix] = JSON.stringify(obj);
    return out;
  }
  TABS.compare = function (v) {
    var ids = S.selected.slice();
    return Promise.all(ids.map(function (id) { return api("/api/runs/" + id + "/config"); })).then(function (cs) {
      var flat = cs.map(function (c) { return flatten(c.config || {}, "", {}); }), keys = {};
      flat.forEach(function (f) { Object.keys(f).forEach(function (k) { keys[k] = 1; }); });
      var only = h("input", { type: "checkbox", id: "only-diff", checked: S.onlyDiff, on: { change: function () { S.onlyDiff = this.checked; render(); } } });
      v.appendChild(h("div", { "class": "toolbar" }, [h("label", {}, [only, " only differences"]), h("span", { "class": "muted small", text: "differing rows are highlighted" })]));
      var rows = [h("tr", {}, [h("th", { text: "key" })].concat(ids.map(function (id) { return h("th", { text: S.byId[id].name }); })))];
      Object.keys(keys).sort().forEach(function (k) {
        var vals = flat.map(function (f) { return k in f ? f[k] : "(absent)"; });
        var differs = vals.some(function (x) { return x !== vals[0]; });
        if (S.onlyDiff && !differs) return;
        rows.push(h("tr", { "class": differs ? "diff" : null }, [h("td", { "class": "key mono", text: k })].concat(vals.map(function (x) { return h("td", { "class": "mono", text: x }); }))));
      });
      v.appendChild(h("table", { id: "compare-table" }, rows));
    });
  };

  /* ---------- tokens ---------- */
  function tokSpan(t, cls, tip) {
    var special = /^<\|.*\|>$/.test(t.t) || /^<[a-z_\/]+>$/i.test(t.t);
    var s = h("span", { "class": "tok " + cls + (special ? " special" : "") + (t.t === "\n" ? " nl" : ""), "data-id": t.id, text: t.t });
    if (tip) {
      s.addEventListener("mouseenter", function (e) { tokTip.textContent = tip; tokTip.hidden = false; tokTip.style.left = e.clientX + 12 + "px"; tokTip.style.top = e.clientY + 14 + "px"; });
      s.addEventListener("mouseleave", function () { tokTip.hidden = true; });
    }
    return s;
  }
  TL.tokSpan = tokSpan;

  TABS.data = function (v) {
    var r = current();
    if (!r) { v.appendChild(h("p", { "class": "muted", text: "Tick a run on the left." })); return; }
    var start = S.dataStart || 0;
    return api("/api/runs/" + r.id + "/data?n=4&start=" + start).then(function (j) {
      v.appendChild(h("h3", { text: r.name + ": training data as the model sees it" }));
      if (!j.available) { v.appendChild(h("p", { "class": "muted", id: "data-reason", text: j.reason })); return; }
      v.appendChild(h("p", { "class": "small legend-inline" }, [h("span", { "class": "tok trained", text: "trained (weight > 0)" }), h("span", { "class": "tok prompt", text: "context (weight 0)" }),
        h("span", { "class": "tok special", text: "special token" }), h("span", { "class": "muted", text: j.file_path + " · renderer " + j.renderer_name })]));
      j.examples.forEach(function (ex) {
        v.appendChild(h("h4", { text: "line " + ex.line + ": " + ex.n_tokens + " tokens, " + ex.n_trained + " trained" }));
        v.appendChild(h("div", { "class": "tokens data-example" }, ex.tokens.map(function (t) {
          return tokSpan(t, t.w > 0 ? "trained" : "prompt", "token " + t.id + " " + JSON.stringify(t.t) + "  weight " + fmt(t.w));
        })));
      });
      if (!SNAP) v.appendChild(h("p", {}, [
        h("button", { id: "data-prev", disabled: start === 0, text: "previous 4", on: { click: function () { S.dataStart = Math.max(0, start - 4); render(); } } }), " ",
        h("button", { id: "data-next", disabled: j.examples.length < 4, text: "next 4", on: { click: function () { S.dataStart = start + 4; render(); } } })]));
    });
  };

  function lpColor(lp) {
    var p = lp === null || lp === undefined ? 0 : Math.exp(lp);
    return "hsl(" + Math.round(120 * p) + ", 75%, " + (88 - 10 * p).toFixed(0) + "%)";
  }
  function turnView(turn) {
    var toks = turn.ac.map(function (t) {
      var sp = tokSpan(t, "sampled", JSON.stringify(t.t) + "  token " + t.id + (t.lp === null ? "  (no logprob)" : "  logprob " + fmt(t.lp) + " (p=" + fmt(Math.exp(t.lp)) + ")"));
      if (t.lp !== null) { sp.style.background = lpColor(t.lp); sp.setAttribute("data-lp", t.lp); }
      return sp;
    });
    var note = "turn " + turn.turn_idx + " · reward " + fmt(turn.reward) + (turn.ob_cut ? " · observation: the end of " + turn.ob_len + " tokens" : "");
    return h("div", { "class": "turn" }, [h("div", { "class": "muted", text: note }),
      h("div", { "class": "tokens" }, [h("span", { "class": "tok prompt ob", text: turn.ob_text })].concat(toks))]);
  }
  function sampleView(s, i) {
    var toks = s.tokens.map(function (t) {
      var tip = JSON.stringify(t.t) + "  logprob " + fmt(t.lp) + " (p=" + fmt(Math.exp(t.lp)) + ")" +
        (t.top.length ? "\ntop: " + t.top.map(function (a) { return JSON.stringify(a.t) + " " + fmt(a.lp); }).join("\n     ") : "");
      var sp = tokSpan(t, "sampled", tip);
      sp.style.background = lpColor(t.lp);
      sp.setAttribute("data-lp", t.lp);
      return sp;
    });
    return h("div", { "class": "sample" }, [h("h4", { text: "sample " + (i + 1) + " · stop: " + s.stop_reason }), h("div", { "class": "tokens" }, toks)]);
  }

  TABS.checkpoints = function (v) {
    var r = current();
    if (!r) { v.appendChild(h("p", { "class": "muted", text: "Tick a run on the left." })); return; }
    return api("/api/runs/" + r.id + "/checkpoints").then(function (j) {
      var cks = j.checkpoints;
      v.appendChild(h("h3", { text: r.name + ": checkpoints" }));
      var rows = [h("tr", {}, ["name", "step", "kind", "final", "state path", "sampler path"].map(function (t) { return h("th", { text: t }); }))];
      cks.forEach(function (c) {
        rows.push(h("tr", { "class": "ckpt-row" }, [h("td", { text: c.name }), h("td", { "class": "num", text: String(c.step !== undefined ? c.step : c.batch) }),
          h("td", { text: c.kind }), h("td", { text: c.final ? "yes" : "" }), h("td", { "class": "mono", text: c.state_path || "" }), h("td", { "class": "mono", text: c.sampler_path || "" })]));
      });
      v.appendChild(h("table", { id: "ckpt-table" }, rows));
      v.appendChild(h("h3", { text: "Playground" }));
      v.appendChild(h("p", { "class": "muted small", id: "endpoint", text: "sampling on: " + j.endpoint + (r.renderer ? " · renderer " + r.renderer : "") }));
      var options = function (withNone) {
        var o = withNone ? [h("option", { value: "-", text: "(none)" })] : [];
        o.push(h("option", { value: "", text: "base model " + (r.model || "") }));
        cks.filter(function (c) { return c.sampler_path; }).forEach(function (c) { o.push(h("option", { value: c.sampler_path, text: c.name + " (step " + c.step + ")" })); });
        return o;
      };
      var selA = h("select", { id: "play-a" }, options(false)), selB = h("select", { id: "play-b" }, options(true));
      if (selA.options.length > 1) selA.selectedIndex = selA.options.length - 1;
      selB.value = "";
      var prompt = h("textarea", { id: "play-prompt", placeholder: "a user message, rendered with the run's renderer" });
      prompt.value = "What is 2 plus 2?";
      var num = function (id, val, step) { return h("input", { id: id, type: "number", value: val, step: step || 1, min: 0 }); };
      var n = num("play-n", 2), temp = num("play-temp", 1.0, 0.1), maxT = num("play-max", 24), topk = num("play-topk", 5);
      var stop = h("input", { id: "play-stop", placeholder: "stop strings, comma-separated (default: renderer's)" });
      var out = h("div", { "class": "play", id: "play-out" });
      var go = h("button", { "class": "primary", id: "play-go", text: "Sample", on: { click: function () {
        out.textContent = "";
        [selA.value, selB.value].forEach(function (path, ci) {
          if (path === "-") return;
          var col = h("div", { "class": "play-col", "data-col": ci }, [h("h4", { text: path || "base model " + r.model })]);
          out.appendChild(col);
          var body = { prompt: prompt.value, model_path: path, num_samples: +n.value, temperature: +temp.value, max_tokens: +maxT.value, topk: +topk.value };
          if (stop.value.trim()) body.stop = stop.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
          col.appendChild(h("p", { "class": "muted small", text: "sampling…" }));
          api("/api/runs/" + r.id + "/sample", body).then(function (res) {
            col.lastChild.textContent = "prompt as rendered: " + JSON.stringify(res.prompt_rendered);
            res.samples.forEach(function (s, i) { col.appendChild(sampleView(s, i)); });
            col.setAttribute("data-done", "1");
          }).catch(function (e) { col.lastChild.remove(); showError(col, e); col.setAttribute("data-done", "err"); });
        });
      } } });
      v.appendChild(h("div", { "class": "play-form" }, [h("label", { text: "A" }), selA, h("label", { text: "B (compare)" }), selB, prompt,
        h("label", { text: "samples" }), n, h("label", { text: "temperature" }), temp, h("label", { text: "max tokens" }), maxT,
        h("label", { text: "top-k shown" }), topk, h("label", { text: "stop" }), stop, go]));
      if (SNAP) { go.disabled = true; v.appendChild(h("p", { "class": "muted", text: "Sampling is off in a static snapshot." })); }
      v.appendChild(h("p", { "class": "small muted", text: "each token is coloured by its probability (red: unlikely, green: likely); hover a token for its logprob and the top alternatives" }));
      v.appendChild(out);
    });
  };

  TABS.rollouts = function (v) {
    var r = current();
    if (!r) { v.appendChild(h("p", { "class": "muted", text: "Tick a run on the left." })); return; }
    return Promise.all([api("/api/runs/" + r.id + "/rollouts"), ensureMetrics([r.id])]).then(function (res) {
      var j = res[0];
      v.appendChild(h("h3", { text: r.name + ": RL rollouts" }));
      if (!j.iterations.length) {
        v.appendChild(h("p", { "class": "muted", id: "rollouts-reason", text: j.reason }));
        var ser = S.metrics[r.id].series, keys = ["env/all/reward/total", "env/all/by_group/frac_mixed", "env/all/by_group/frac_all_good", "env/all/by_group/frac_all_bad", "test/env/all/reward/total"].filter(function (k) { return ser[k]; });
        if (!keys.length) return;
        v.appendChild(h("p", { text: "Per-step reward metrics the loop logged:" }));
        var steps = {};
        keys.forEach(function (k) { ser[k].forEach(function (p) { (steps[p[0]] = steps[p[0]] || {})[k] = p[2]; }); });
        v.appendChild(h("table", { id: "reward-table" }, [h("tr", {}, [h("th", { text: "step" })].concat(keys.map(function (k) { return h("th", { text: k }); })))].concat(
          Object.keys(steps).sort(function (a, b) { return a - b; }).map(function (s) { return h("tr", {}, [h("td", { "class": "num", text: s })].concat(keys.map(function (k) { return h("td", { "class": "num", text: fmt(steps[s][k]) }); }))); }))));
        return;
      }
      var lo = h("input", { type: "number", id: "reward-min", step: 0.1, placeholder: "min reward" }), hi = h("input", { type: "number", id: "reward-max", step: 0.1, placeholder: "max reward" });
      var itSel = h("select", { id: "iter-sel" }, j.iterations.map(function (it, i) { return h("option", { value: i, text: "iteration " + it.iteration }); }));
      var list = h("div", { id: "rollout-list" }), drawSeq = 0;
      var anyTokens = j.iterations.some(function (it) { return (it.transcripts || []).length; });
      var draw = function () {
        list.textContent = "";
        var it = j.iterations[+itSel.value], a = lo.value === "" ? -Infinity : +lo.value, b = hi.value === "" ? Infinity : +hi.value;
        var cells = {}, splits = it.transcripts || [];
        it.groups.forEach(function (g) {
          var trajs = g.trajs.filter(function (t) { return t.total_reward >= a && t.total_reward <= b; });
          if (!trajs.length) return;
          var rows = [h("tr", {}, ["traj", "reward", "advantage", splits.indexOf(g.split) >= 0 ? "transcript (observation, then the sampled tokens coloured by logprob)" : "turns (ob / ac tokens, reward)", "logs"].map(function (t) { return h("th", { text: t }); }))];
          trajs.forEach(function (t) {
            var turns = h("td", { "class": "mono small", text: (t.steps || []).map(function (s) { return "#" + s.step_idx + " " + s.ob_len + "/" + s.ac_len + " r=" + fmt(s.reward); }).join("\n") });
            cells[g.split + ":" + g.group_idx + ":" + t.traj_idx] = turns;
            rows.push(h("tr", { "class": "traj" }, [h("td", { text: String(t.traj_idx) }), h("td", { "class": "num", text: fmt(t.total_reward) }),
              h("td", { "class": "num " + (t.advantage >= 0 ? "pos" : "neg"), text: fmt(t.advantage) }),
              turns,
              h("td", { "class": "mono small", text: (t.steps || []).map(function (s) { return Object.keys(s.logs || {}).map(function (k) { return k + ": " + s.logs[k]; }).join("\n"); }).join("\n---\n") })]));
          });
          list.appendChild(h("div", { "class": "group" }, [h("h4", { text: g.split + " group " + g.group_idx + " · mean reward " + fmt(g.reward_mean) + " · tags " + ((g.trajs[0] || {}).tags || []).join(", ") }), h("table", {}, rows)]));
        });
        var seq = ++drawSeq;
        list.setAttribute("data-transcripts", splits.length ? "loading" : "none");
        if (!splits.length) return;
        var q = (lo.value === "" ? "" : "&min=" + encodeURIComponent(lo.value)) + (hi.value === "" ? "" : "&max=" + encodeURIComponent(hi.value));
        Promise.all(splits.map(function (sp) {
          return api("/api/runs/" + r.id + "/transcripts?iteration=" + it.iteration + "&split=" + encodeURIComponent(sp) + "&limit=500" + q).then(function (tj) {
            if (seq !== drawSeq) return 0;
            tj.trajs.forEach(function (t) {
              var c = cells[sp + ":" + t.group_idx + ":" + t.traj_idx];
              if (!c) return;
              c.textContent = "";
              c.className = "transcript";
              t.turns.forEach(function (turn) { c.appendChild(turnView(turn)); });
            });
            return tj.trajs.length;
          });
        })).then(function (ns) {
          if (seq === drawSeq) list.setAttribute("data-transcripts", String(ns.reduce(function (x, y) { return x + y; }, 0)));
        }).catch(function (e) {
          if (seq !== drawSeq) return;
          list.setAttribute("data-transcripts", "err");
          list.insertBefore(h("p", { "class": "muted small", id: "transcripts-reason", text: "token transcripts unavailable: " + (e && e.message || e) }), list.firstChild);
        });
      };
      [lo, hi, itSel].forEach(function (e) { e.addEventListener("input", draw); e.addEventListener("change", draw); });
      v.appendChild(h("div", { "class": "toolbar" }, [itSel, lo, hi, h("span", { "class": "muted small", text: j.count + " trajectories" + (j.truncated ? " (truncated)" : "") + (anyTokens ? "; sampled tokens coloured by probability (red: unlikely, green: likely), hover one for its logprob" : "; these rollout summaries carry lengths and rewards, not tokens (no token sidecar), so no per-token colouring here") })]));
      v.appendChild(list);
      draw();
      var chartBox = h("div", { "class": "chart-box", id: "rollout-chart" }), pts = [], band = [];
      j.iterations.forEach(function (it) {
        var rs = [];
        it.groups.forEach(function (g) { if (g.split === "train") g.trajs.forEach(function (t) { rs.push(t.total_reward); }); });
        if (!rs.length) return;
        pts.push([it.iteration, rs.reduce(function (a, b) { return a + b; }, 0) / rs.length]);
        band.push([it.iteration, Math.min.apply(null, rs), Math.max.apply(null, rs)]);
      });
      v.insertBefore(chartBox, v.querySelector(".toolbar"));
      new TL.Chart(chartBox, { title: "train reward: mean, min–max band", xLabel: "iteration" })
        .setData([{ name: "reward mean", color: color(r.id), points: pts, band: band }]);
    });
  };

  TABS.cost = function (v) {
    return ensureMetrics(S.selected).then(function () {
      var kinds = ["trained", "sampled", "prefill_uncached", "prefill_cached"];
      var rows = [h("tr", {}, [h("th", { text: "run" })].concat(kinds.map(function (k) { return h("th", { text: "tokens " + k }); })).concat([h("th", { text: "USD (logged)" }), h("th", { text: "metric rows" })]))];
      S.selected.forEach(function (id) {
        var ser = S.metrics[id].series, last = function (k) { var s = ser[k]; return s && s.length ? s[s.length - 1][2] : null; };
        rows.push(h("tr", { "class": "cost-row" }, [h("td", { text: S.byId[id].name })].concat(kinds.map(function (k) { return h("td", { "class": "num", text: fmt(last("tokens/cumulative/" + k)) }); }))
          .concat([h("td", { "class": "num", text: last("cost/cumulative_usd") === null ? "–" : "$" + last("cost/cumulative_usd").toFixed(4) }), h("td", { "class": "num", text: String(S.metrics[id].rows) })])));
      });
      v.appendChild(h("h3", { text: "Tokens and cost (totals from tokens/cumulative/*)" }));
      v.appendChild(h("table", { id: "cost-table" }, rows));
      var holder = h("div", { "class": "charts", id: "cost-charts" });
      v.appendChild(holder);
      var keys = allKeys();
      drawCharts(holder, [["tokens/trained", "tokens/sampled"], ["tokens/cumulative/trained", "tokens/cumulative/sampled"], ["cost/cumulative_usd"]].map(function (g) {
        return g.filter(function (k) { return keys.indexOf(k) >= 0; });
      }).filter(function (g) { return g.length; }));
    });
  };

  /* ---------- live updates: poll running runs' new rows; refresh the list ---------- */
  function poll() {
    if (SNAP) return;
    var live = S.selected.filter(function (id) { return S.metrics[id] && S.byId[id] && S.byId[id].status === "running"; });
    document.getElementById("live").textContent = live.length ? "live: " + live.length + " running run(s)" : "";
    Promise.all(live.map(loadMetrics)).then(function (grew) {
      if (grew.some(Boolean)) {
        renderPicker();
        if (S.tab === "curves" || S.tab === "cost") S.chartObjs.forEach(function (c) { c.setData(chartSeries(c.keys)); });
      }
    }).catch(function () {}).then(function () { setTimeout(poll, 2000); });
  }
  function pollRuns() {
    if (SNAP) return;
    loadRuns().catch(function () {}).then(function () { setTimeout(pollRuns, 5000); });
  }

  window.addEventListener("hashchange", render);
  TL.state = S;
  TL.render = render;
  loadRuns().then(function () {
    render();
    setTimeout(poll, 2000);
    setTimeout(pollRuns, 5000);
  }).catch(function (e) { showError(view(), e); });
})();
