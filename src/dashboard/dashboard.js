/* dashboard.js - hashspace's live dashboard. Served by a hub at / on its
 * metrics port, it polls that hub's /status and /metrics every second (and
 * /view when the epoch changes); served by `hashspace dashboard`, it polls
 * /cluster, which carries the same for every hub plus the coordinator's
 * views. The history lives here, in the page: the last HISTORY_S seconds it
 * has seen, so a hub keeps nothing for it and pays only for the polls. */
"use strict";
(() => {
  const POLL_MS = 1000;
  const HISTORY_S = 600;
  const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  const hubs = new Map();
  let mode = null; /* "hub" or "cluster" */
  let cluster = null; /* the cluster-wide panel, in cluster mode */
  let coordMarks = []; /* views the coordinator says took effect: {t, epoch} */

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {}))
      if (v !== undefined && v !== null) e.setAttribute(k, v);
    e.append(...kids);
    return e;
  }
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  const color = (i) => COLORS[i % COLORS.length];
  function num(n, digits) {
    if (n === null || n === undefined || Number.isNaN(n)) return "–";
    if (digits !== undefined) return n.toFixed(digits);
    return Math.abs(n) >= 1e6 ? (n / 1e6).toFixed(2) + "M" : Math.round(n).toLocaleString("en");
  }
  function setState(text, bad) {
    const s = document.getElementById("state");
    s.textContent = text;
    s.className = bad ? "error" : "";
  }
  async function get(url, text) {
    const r = await fetch(url, { cache: "no-store" });
    if (!r.ok) throw new Error(url + ": HTTP " + r.status);
    return text ? r.text() : r.json();
  }

  /* The duration histogram's buckets per consumer, from the Prometheus text:
   * {consumer: [[le, cumulative count], ...]}, le ascending. */
  const BUCKET = /^hashspace_consumer_duration_seconds_bucket\{consumer="((?:[^"\\]|\\.)*)",le="([^"]+)"\} (\S+)$/;
  function parseBuckets(text) {
    const out = {};
    for (const line of text.split("\n")) {
      const m = BUCKET.exec(line);
      if (!m) continue;
      const name = m[1].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
      (out[name] = out[name] || []).push([m[2] === "+Inf" ? Infinity : Number(m[2]), Number(m[3])]);
    }
    for (const k in out) out[k].sort((a, b) => a[0] - b[0]);
    return out;
  }
  /* Quantile q (seconds) of the messages finished between two samples of a
   * histogram, interpolated within its bucket; null when none finished. */
  function quantile(q, now, before) {
    if (!now || !before || before.length !== now.length) return null;
    const total = now[now.length - 1][1] - before[before.length - 1][1];
    if (!(total > 0)) return null;
    const rank = q * total;
    let lower = 0, below = 0;
    for (let i = 0; i < now.length; i++) {
      const [le, cum] = now[i];
      const c = cum - before[i][1];
      if (c >= rank) {
        if (le === Infinity) return lower;
        return lower + (le - lower) * ((rank - below) / Math.max(c - below, 1e-9));
      }
      lower = le;
      below = c;
    }
    return lower;
  }

  /* Dashed vertical lines at view changes, with the new epoch. */
  function marksPlugin(marks) {
    return {
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx, { left, top, width, height } = u.bbox;
          ctx.save();
          ctx.strokeStyle = ctx.fillStyle = css("--warn");
          ctx.lineWidth = devicePixelRatio;
          ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
          ctx.font = 10 * devicePixelRatio + "px system-ui, sans-serif";
          for (const m of marks()) {
            const x = Math.round(u.valToPos(m.t, "x", true));
            if (x < left || x > left + width) continue;
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.fillText("epoch " + m.epoch, x + 3 * devicePixelRatio, top + 10 * devicePixelRatio);
          }
          ctx.restore();
        }],
      },
    };
  }

  /* A small time chart: series [{label, scale}], scales {name: side}. */
  function chart(parent, title, series, scales, marks) {
    const fg = css("--muted"), grid = css("--grid");
    const axis = (scale, side) => ({
      scale, side, stroke: fg, size: 44,
      grid: { stroke: grid, show: side === 3 }, ticks: { stroke: grid },
      values: (u, vals) => vals.map((v) => (v >= 1e4 ? (v / 1e3).toFixed(0) + "k" : v)),
    });
    const opts = {
      title, width: Math.max(parent.clientWidth, 200), height: 140,
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      scales: { x: { time: true, range: (u, lo, hi) => (hi === null ? [lo, hi] : [Math.min(lo, hi - 60), hi]) } },
      series: [{}].concat(series.map((s, i) => ({
        label: s.label, scale: s.scale, stroke: s.color || color(i), width: 1.5, spanGaps: false,
      }))),
      axes: [{
        stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, space: 70,
        values: (u, vals) => vals.map((v) => new Date(v * 1000).toTimeString().slice(0, 8)),
      }].concat(
        Object.entries(scales).map(([name, side]) => axis(name, side))),
      plugins: [marksPlugin(marks)],
    };
    for (const name of Object.keys(scales)) opts.scales[name] = { range: (u, lo, hi) => [0, Math.max(hi, 1) * 1.1] };
    const u = new uPlot(opts, [[]].concat(series.map(() => [])), parent);
    /* Follow the box's width (a phone turned, hubs added to the grid). */
    let width = parent.clientWidth;
    const ro = new ResizeObserver(() => {
      if (parent.clientWidth !== width && parent.clientWidth > 0)
        u.setSize({ width: Math.max((width = parent.clientWidth), 200), height: 140 });
    });
    ro.observe(parent);
    const destroy = u.destroy.bind(u);
    u.destroy = () => { ro.disconnect(); destroy(); };
    return u;
  }

  /* The ring: the inner donut is each member's share (sampled through the
   * placement); the outer band is who owns each arc of the hash space by
   * position (ring placements show contiguous arcs, jump a fine mix). */
  function drawRing(canvas, view) {
    const ctx = canvas.getContext("2d"), w = canvas.width, c = w / 2;
    ctx.clearRect(0, 0, w, w);
    const arc = (r0, r1, a0, a1, fill) => {
      ctx.beginPath();
      ctx.arc(c, c, r1, a0, a1);
      ctx.arc(c, c, r0, a1, a0, true);
      ctx.closePath();
      ctx.fillStyle = fill;
      ctx.fill();
    };
    const start = -Math.PI / 2, turn = 2 * Math.PI;
    const arcs = view.arcs || [];
    for (let i = 0; i < arcs.length; i++)
      if (arcs[i] >= 0)
        arc(c * 0.86, c * 0.98, start + (turn * i) / arcs.length, start + (turn * (i + 1.02)) / arcs.length, color(arcs[i]));
    let a = start;
    view.members.forEach((m, i) => {
      const b = a + turn * m.share;
      arc(c * 0.5, c * 0.8, a, b, color(i));
      a = b;
    });
    ctx.fillStyle = css("--fg");
    ctx.font = "600 " + Math.round(w / 9) + "px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("epoch " + view.epoch, c, c);
  }

  class Consumer {
    constructor(hub, name, index) {
      this.hub = hub;
      this.root = el("div", { class: "consumer", "data-consumer": name });
      this.title = el("h3");
      this.stats = el("div", { class: "muted" });
      const box = () => el("div", { class: "chart" });
      this.boxes = [box(), box(), box()];
      this.root.append(this.title, this.stats, el("div", { class: "charts" }, ...this.boxes));
      hub.consEl.append(this.root);
      this.name = name;
      this.index = index;
      /* t, backlog, oldest age, in, out, dropped, p50, p90, p99 */
      this.data = [[], [], [], [], [], [], [], [], []];
      this.charts = null;
    }
    build() {
      const marks = () => this.hub.allMarks();
      if (this.charts) this.charts.forEach((c) => c.destroy());
      this.charts = [
        chart(this.boxes[0], "backlog and oldest age",
          [{ label: "backlog", scale: "n" }, { label: "oldest s", scale: "s" }], { n: 3, s: 1 }, marks),
        chart(this.boxes[1], "rates, msg/s",
          [{ label: "in", scale: "r" }, { label: "out", scale: "r" }, { label: "dropped", scale: "r", color: "#e15759" }],
          { r: 3 }, marks),
        chart(this.boxes[2], "processing time, ms",
          [{ label: "p50", scale: "ms" }, { label: "p90", scale: "ms" }, { label: "p99", scale: "ms" }],
          { ms: 3 }, marks),
      ];
      this.draw();
    }
    draw() {
      const d = this.data;
      this.charts[0].setData([d[0], d[1], d[2]]);
      this.charts[1].setData([d[0], d[3], d[4], d[5]]);
      this.charts[2].setData([d[0], d[6], d[7], d[8]]);
    }
    update(t, c, prev, buckets, prevBuckets) {
      const dt = prev ? t - prev.t : 0;
      const rate = (now, before) => (prev && dt > 0 ? Math.max(now - before, 0) / dt : null);
      const p = prev ? prev.c : null;
      const row = [t, c.backlog, c.oldest_age_seconds,
        p ? rate(c.routed, p.routed) : null,
        p ? rate(c.ok + c.failed, p.ok + p.failed) : null,
        p ? rate(c.dropped, p.dropped) : null];
      for (const q of [0.5, 0.9, 0.99]) {
        const s = quantile(q, buckets, prevBuckets);
        row.push(s === null ? null : s * 1000);
      }
      row.forEach((v, i) => this.data[i].push(v));
      while (this.data[0].length && this.data[0][0] < t - HISTORY_S) this.data.forEach((a) => a.shift());
      this.title.textContent = c.name + "  ";
      this.title.append(el("span", { class: "muted" }, c.kind + (c.arg != null ? ":" + c.arg : "") + "  @" + c.glob + "  ×" + c.workers));
      const bad = (n, label) => (n > 0 ? el("span", { class: "bad" }, label + " " + num(n)) : label + " " + num(n));
      this.stats.replaceChildren("backlog " + num(c.backlog) + " · oldest " + num(c.oldest_age_seconds, 2) + " s · ok " + num(c.ok) + " · ",
        bad(c.failed, "failed"), " · ", bad(c.dropped, "dropped"), " · ", bad(c.left, "left"), " · restarts " + num(c.restarts));
      const backlogs = this.data[1];
      this.root.dataset.backlog = c.backlog;
      this.root.dataset.backlogMax = Math.max(0, ...backlogs);
      this.root.dataset.points = backlogs.length;
      if (!this.charts) this.build();
      else this.draw();
    }
  }

  class Hub {
    constructor(key) {
      this.key = key;
      this.prev = null;
      this.view = null;
      this.viewFor = null; /* the status epoch the view was fetched at */
      this.epoch = null;
      this.marks = [];
      this.consumers = new Map();
      this.root = el("section", { class: "hub card", "data-key": key });
      this.head = el("h2", {}, key);
      this.err = el("div", { class: "err" });
      this.ring = el("canvas", { width: 240, height: 240, "aria-label": "share of the hash space" });
      this.list = el("ul", { class: "members" });
      this.counters = el("table");
      this.bus = el("div", { class: "bus" });
      this.consEl = el("div");
      this.root.append(this.head, this.err, el("div", { class: "summary" },
        el("div", { class: "view" }, this.ring, this.list),
        el("div", { class: "counters" }, el("h3", {}, "messages"), this.counters),
        this.bus), this.consEl);
      document.getElementById("hubs").append(this.root);
    }
    allMarks() { return this.marks.concat(coordMarks); }
    down(error) {
      this.root.classList.add("down");
      this.err.textContent = "unreachable: " + error;
    }
    showView(view) {
      this.view = view;
      drawRing(this.ring, view);
      this.list.replaceChildren(...view.members.map((m, i) => el("li", {
        class: m.name === view.self ? "self" : null, "data-member": m.name, "data-share": m.share,
      }, el("span", { class: "swatch", style: "background:" + color(i) }),
      m.name + " " + (m.share * 100).toFixed(1) + "%" + (m.weight !== 1 ? " (weight " + m.weight + ")" : ""))));
      this.list.append(el("li", { class: "muted" }, view.placement + ", " + view.hash));
    }
    update(t, s, buckets, view) {
      this.root.classList.remove("down");
      this.err.textContent = "";
      this.root.dataset.self = s.self;
      this.head.textContent = s.self + (mode === "cluster" ? "  " : "");
      if (mode === "cluster") this.head.append(el("span", { class: "muted" }, this.key));
      if (this.epoch !== null && s.epoch !== this.epoch) this.marks.push({ t, epoch: s.epoch });
      this.marks = this.marks.filter((m) => m.t >= t - HISTORY_S);
      this.epoch = s.epoch;
      this.root.dataset.epoch = s.epoch;
      if (view && (!this.view || JSON.stringify(view) !== JSON.stringify(this.view))) this.showView(view);
      const malformed = Object.values(s.malformed || {}).reduce((a, b) => a + b, 0);
      const row = (...cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c)));
      const red = (n) => (n > 0 ? el("span", { class: "bad" }, num(n)) : num(n));
      this.counters.replaceChildren(
        row("received", num(s.received), "claimed", num(s.claimed)),
        row("skipped", num(s.skipped), "unmatched", num(s.unmatched)),
        row("malformed", red(malformed), "dead letters", red(s.dead_lettered)));
      const bus = s.bus || [];
      if (bus.length) {
        const head = el("tr", {}, ...[["publisher"], ["recv", "received"], ["miss", "missing (net loss: missing - late)"],
          ["late"], ["dup", "duplicates"], ["rst", "restarts"]].map(([h, t]) => el("th", { title: t }, h)));
        this.bus.replaceChildren(el("h3", {}, "bus"), el("table", {}, head, ...bus.map((p) => el("tr", {
          "data-publisher": p.publisher, "data-gaps": p.missing - p.late,
        }, el("td", {}, p.publisher), el("td", {}, num(p.received)),
        el("td", {}, p.missing > p.late ? el("span", { class: "bad" }, num(p.missing)) : num(p.missing)),
        el("td", {}, num(p.late)), el("td", {}, num(p.duplicates)), el("td", {}, num(p.restarts))))));
      } else {
        this.bus.replaceChildren();
      }
      const seen = new Set();
      (s.consumers || []).forEach((c, i) => {
        seen.add(c.name);
        let con = this.consumers.get(c.name);
        if (!con) this.consumers.set(c.name, (con = new Consumer(this, c.name, i)));
        const prev = this.prev && this.prev.s.consumers.find((x) => x.name === c.name);
        con.update(t, c, prev ? { t: this.prev.t, c: prev } : null,
          buckets[c.name], this.prev ? this.prev.buckets[c.name] : null);
      });
      for (const [name, con] of this.consumers)
        if (!seen.has(name)) { con.root.remove(); this.consumers.delete(name); }
      this.prev = { t, s, buckets };
    }
    backlog() {
      return this.prev && !this.root.classList.contains("down")
        ? this.prev.s.consumers.reduce((a, c) => a + c.backlog, 0) : 0;
    }
  }

  function hubFor(key) {
    let h = hubs.get(key);
    if (!h) hubs.set(key, (h = new Hub(key)));
    return h;
  }

  async function pollHub(t) {
    const [status, metrics] = await Promise.all([get("status"), get("metrics", true)]);
    const hub = hubFor(location.host);
    let view = hub.view;
    if (hub.viewFor !== status.epoch) {
      view = await get("view");
      hub.viewFor = status.epoch;
    }
    hub.update(t, status, parseBuckets(metrics), view);
    document.getElementById("source").textContent = "hub " + status.self + " at " + location.host;
  }

  /* Cluster mode: totals, a chart of each hub's backlog, and the handovers
   * in progress (pending views, and hubs that disagree on the epoch). */
  class Cluster {
    constructor() {
      this.root = document.getElementById("cluster");
      this.root.hidden = false;
      this.totals = document.getElementById("totals");
      this.handovers = document.getElementById("handovers");
      this.box = el("div", { class: "chart" });
      this.root.append(this.box);
      this.keys = [];
      this.data = [[]];
      this.chart = null;
    }
    update(t, c) {
      const keys = c.hubs.map((h) => h.addr);
      if (this.chart && keys.join() !== this.keys.join()) { this.chart.destroy(); this.chart = null; }
      if (!this.chart) {
        this.keys = keys;
        this.data = [[], []].concat(keys.map(() => []));
        const series = [{ label: "total", scale: "n", color: css("--fg") }].concat(
          c.hubs.map((h, i) => ({ label: (h.status && h.status.self) || h.addr, scale: "n", color: color(i) })));
        this.build = () => {
          if (this.chart) this.chart.destroy();
          this.chart = chart(this.box, "cluster backlog (messages queued, all consumers)", series, { n: 3 }, () => coordMarks);
          this.chart.setData(this.data);
        };
        this.build();
      }
      const per = keys.map((k) => hubs.get(k).backlog());
      const total = per.reduce((a, b) => a + b, 0);
      [t, total, ...per].forEach((v, i) => this.data[i].push(v));
      while (this.data[0].length && this.data[0][0] < t - HISTORY_S) this.data.forEach((a) => a.shift());
      this.chart.setData(this.data);
      const up = c.hubs.filter((h) => h.status).length;
      const sum = (f) => c.hubs.reduce((a, h) => a + (h.status ? f(h.status) : 0), 0);
      const gaps = sum((s) => (s.bus || []).reduce((a, p) => a + Math.max(p.missing - p.late, 0), 0));
      const item = (label, value, id) => el("span", { "data-total": id }, label + " ", el("b", {}, value));
      this.totals.replaceChildren(
        item("hubs up", up + "/" + c.hubs.length, "hubs"),
        item("total backlog", num(total), "backlog"),
        item("dead letters", num(sum((s) => s.dead_lettered)), "dead_letters"),
        item("bus gaps", num(gaps), "gaps"));
      this.root.dataset.backlog = total;
      const lines = [];
      const epochs = {};
      for (const h of c.hubs) if (h.status) (epochs[h.status.epoch] = epochs[h.status.epoch] || []).push(h.status.self);
      if (Object.keys(epochs).length > 1)
        lines.push("hubs disagree on the view: " + Object.entries(epochs).map(([e, n]) => "epoch " + e + ": " + n.join(", ")).join("; "));
      const co = c.coordinator;
      if (co && co.error) lines.push("coordinator: " + co.error);
      if (co && co.views) {
        const now = co.now / 1e9;
        coordMarks = co.views.filter((v) => v.effective_from / 1e9 <= now && v.effective_from / 1e9 >= t - HISTORY_S)
          .map((v) => ({ t: t - (now - v.effective_from / 1e9), epoch: v.epoch }));
        for (const v of co.views.filter((x) => x.effective_from / 1e9 > now))
          lines.push("pending: view " + v.epoch + " in " + (v.effective_from / 1e9 - now).toFixed(1) + " s: " +
            v.members.map((m) => m.name + (m.weight !== 1 ? "=" + m.weight : "")).join(", "));
      }
      this.handovers.replaceChildren(el("h3", {}, "handovers in progress"),
        ...(lines.length ? lines.map((l) => el("div", { class: "pending" }, l)) : [el("div", { class: "muted" }, "none")]));
      this.handovers.dataset.count = lines.length;
      this.root.dataset.marks = coordMarks.map((m) => m.epoch).join(",");
    }
  }

  async function pollCluster(t) {
    const c = await get("cluster");
    for (const h of c.hubs) {
      const hub = hubFor(h.addr);
      if (h.status) hub.update(t, h.status, parseBuckets(h.durations || ""), h.view);
      else hub.down(h.error || "no answer");
    }
    if (!cluster) cluster = new Cluster();
    cluster.update(t, c);
    document.getElementById("source").textContent = "cluster" + (c.cluster ? " " + c.cluster : "") +
      ": " + c.hubs.length + " hubs" + (c.coordinator ? ", coordinator " + c.coordinator.url : "");
  }

  async function poll() {
    const t = Date.now() / 1000;
    try {
      if (mode === null) {
        const r = await fetch("cluster", { method: "HEAD", cache: "no-store" });
        mode = r.ok ? "cluster" : "hub";
      }
      await (mode === "cluster" ? pollCluster(t) : pollHub(t));
      setState("live, " + new Date().toLocaleTimeString(), false);
      document.body.dataset.polls = Number(document.body.dataset.polls || 0) + 1;
    } catch (e) {
      setState("cannot reach the hub: " + (e.message || e), true);
      for (const h of hubs.values()) h.down(e.message || e);
    }
    setTimeout(poll, POLL_MS);
  }
  /* A change between light and dark: charts take their colours at creation. */
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    for (const h of hubs.values()) {
      for (const c of h.consumers.values()) if (c.charts) c.build();
      if (h.view) drawRing(h.ring, h.view);
    }
    if (cluster && cluster.build) cluster.build();
  });
  poll();
})();
