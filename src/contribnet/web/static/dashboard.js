/* contribnet's leaders' page: reads /v1/graph/* with a leader or admin key; no build step.
 *
 * Data: GET /v1/graph/collaboration (store graph with measures), /v1/graph/flows (flow matrix),
 * /v1/graph/farmers (leaderboard) and /v1/graph/stores/{id} (one store's collaborators).
 * Drawing: Cytoscape.js with the fCoSE layout, vendored in /static/vendor (see ../build.sh).
 */
(function () {
  "use strict";

  const KEY = "contribnet.apiKey";
  const $ = (selector) => document.querySelector(selector);
  const state = {
    flowLevel: "city",
    brands: [],
    collab: null,
    selected: null,
    seq: 0,
    detailSeq: 0,
    facetsReady: false,
    colourBy: "brand",
  };
  const app = { state, cy: null };
  window.contribnet = app;

  // --- formatting ---------------------------------------------------------------------------
  const compact = new Intl.NumberFormat("en", { notation: "compact", maximumSignificantDigits: 3 });
  const whole = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
  const money = (fen) => "¥" + compact.format(fen / 100);
  const moneyFull = (fen) => "¥" + whole.format(fen / 100);
  const pct = (x) => (x > 0 && x < 0.1 ? (x * 100).toFixed(1) : Math.round(x * 100)) + "%";
  const share = (part, total) => (total > 0 ? part / total : 0);
  const esc = (text) =>
    String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  const BRAND_COLOURS = { nio: "#2563eb", onvo: "#0d9488" };
  const PALETTE = ["#7c3aed", "#db2777", "#ca8a04", "#0891b2", "#65a30d", "#dc2626"];
  const CROSS = "#f97316";
  const BIG = 1500; // links from which the graph is drawn for speed rather than detail
  const SAME = "#94a3b8";

  function brandColour(brand) {
    if (!brand) return "#94a3b8";
    if (BRAND_COLOURS[brand]) return BRAND_COLOURS[brand];
    const others = state.brands.filter((b) => !BRAND_COLOURS[b]);
    const i = others.indexOf(brand);
    return PALETTE[(i < 0 ? others.length : i) % PALETTE.length];
  }
  // communities: the largest get their own colour, the rest (mostly pairs and loners) share grey
  const COMMUNITY_COLOURS = ["#2563eb", "#e11d48", "#0d9488", "#d97706", "#7c3aed", "#0891b2", "#65a30d", "#db2777", "#4f46e5", "#ca8a04"];
  const communityColour = (c) => (c < COMMUNITY_COLOURS.length ? COMMUNITY_COLOURS[c] : "#a8b3c4");
  const nodeColour = (n) => (state.colourBy === "community" ? communityColour(n.community) : brandColour(n.brand));

  const brandName = (brand) =>
    !brand ? "unknown" : brand.length <= 4 ? brand.toUpperCase() : brand[0].toUpperCase() + brand.slice(1);
  const shortName = (node) => (node.name || node.id).split(" · ")[0];
  const dot = (brand) => `<span class="dot" style="background:${brandColour(brand)}"></span>`;

  // --- the API --------------------------------------------------------------------------------
  class AuthError extends Error {}

  async function api(path, params) {
    const key = localStorage.getItem(KEY);
    if (!key) throw new AuthError("");
    const url = new URL(path, location.origin);
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== "" && value !== null && value !== undefined) url.searchParams.set(name, value);
    }
    const response = await fetch(url, { headers: { Authorization: "Bearer " + key } });
    const body = await response.json().catch(() => ({}));
    if (response.status === 401 || response.status === 403) throw new AuthError(body.detail || response.statusText);
    if (!response.ok) throw new Error(body.detail || `${response.status} ${response.statusText}`);
    return body;
  }

  function filterParams() {
    return { from: $("#f-from").value, to: $("#f-to").value, region: $("#f-region").value, brand: $("#f-brand").value };
  }

  function setNotice(message) {
    const el = $("#notice");
    el.hidden = !message;
    el.textContent = message || "";
  }

  function handle(error) {
    $("#graph").dataset.state = "error";
    if (error instanceof AuthError) {
      askKey(error.message ? `That key was refused: ${error.message}` : "");
    } else {
      setNotice(`Could not load the collaboration data: ${error.message}`);
    }
  }

  // --- loading --------------------------------------------------------------------------------
  async function refresh() {
    const seq = ++state.seq;
    const filters = filterParams();
    $("#graph").dataset.state = "loading";
    setNotice(null);
    try {
      const [collab, brandFlows, flows, farmers] = await Promise.all([
        api("/v1/graph/collaboration", { level: "store", ...filters }),
        api("/v1/graph/flows", { level: "brand", ...filters }),
        api("/v1/graph/flows", { level: state.flowLevel, ...filters }),
        api("/v1/graph/farmers", { ...filters, limit: 25 }),
      ]);
      if (seq !== state.seq) return; // a newer request is on its way
      state.collab = collab;
      fillFacets(collab.available);
      renderKpis(collab);
      renderGraph(collab);
      renderLegend(collab);
      renderFlows(brandFlows, $("#flows-brand"));
      renderFlows(flows, $("#flows"));
      renderFarmers(farmers);
      if (state.selected && app.cy.getElementById(state.selected).nonempty()) {
        select(state.selected, { focus: false });
      } else {
        clearSelection();
      }
      $("#graph").dataset.state = "ready";
    } catch (error) {
      if (seq === state.seq) handle(error);
    }
  }

  async function refreshFlows() {
    try {
      renderFlows(await api("/v1/graph/flows", { level: state.flowLevel, ...filterParams() }), $("#flows"));
    } catch (error) {
      handle(error);
    }
  }

  function fillFacets(available) {
    state.brands = available.brands;
    if (state.facetsReady) return;
    for (const [select, values, label] of [
      [$("#f-region"), available.regions, (v) => v],
      [$("#f-brand"), available.brands, brandName],
    ]) {
      for (const value of values) select.add(new Option(label(value), value));
    }
    for (const input of [$("#f-from"), $("#f-to")]) {
      input.min = available.first_day || "";
      input.max = available.last_day || "";
    }
    $("#f-from").value = available.first_day || "";
    $("#f-to").value = available.last_day || "";
    state.range = [available.first_day || "", available.last_day || ""];
    state.facetsReady = true;
  }

  // --- totals ---------------------------------------------------------------------------------
  function renderKpis(collab) {
    const s = collab.summary;
    const cards = [
      ["Deals", whole.format(s.deals), `${whole.format(s.contributors)} staff credited`],
      ["Credit settled", money(s.credit), "staff credit in the period"],
      ["Across stores", pct(share(s.cross_store, s.credit)), `${money(s.cross_store)} on another store's deals`],
      ["Across brands", pct(share(s.cross_brand, s.credit)), `${money(s.cross_brand)} on another brand's deals`],
      ["Across cities", pct(share(s.cross_city, s.credit)), `${money(s.cross_city)} on another city's deals`],
      ["Stores", whole.format(collab.nodes.length), `${collab.edges.length} links · ${collab.communities} communities`],
    ];
    $("#kpis").innerHTML = cards
      .map(([label, value, sub]) => `<div class="kpi"><div class="label">${label}</div><div class="value">${value}</div><div class="sub">${esc(sub)}</div></div>`)
      .join("");
  }

  // --- the graph ------------------------------------------------------------------------------
  /** Run ``fn`` with Math.random seeded (mulberry32), so a layout is the same on every load. */
  function withSeed(seed, fn) {
    const original = Math.random;
    let a = seed >>> 0;
    Math.random = function () {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    try {
      return fn();
    } finally {
      Math.random = original;
    }
  }

  function graphStyle(big) {
    return [
      {
        selector: "node",
        style: {
          width: "data(size)",
          height: "data(size)",
          "background-color": "data(colour)",
          "border-width": 1.5,
          "border-color": "#ffffff",
          label: "data(label)",
          "font-size": "data(font)",
          "font-weight": 500,
          color: "#1e293b",
          "text-valign": "bottom",
          "text-margin-y": 3,
          "text-outline-color": "#ffffff",
          "text-outline-width": 2,
          "text-outline-opacity": 0.9,
          "min-zoomed-font-size": 6,
        },
      },
      {
        selector: "node.out",
        style: { "background-opacity": 0.25, "border-style": "dashed", "border-color": "data(colour)", "border-width": 1.5 },
      },
      {
        selector: "edge",
        style: {
          width: "data(width)",
          "line-color": SAME,
          opacity: big ? 0.28 : 0.5,
          "curve-style": big ? "haystack" : "bezier",
          "target-arrow-shape": big ? "none" : "triangle",
          "target-arrow-color": SAME,
          "arrow-scale": 0.6,
        },
      },
      {
        selector: "edge.cross",
        style: { "line-color": CROSS, "target-arrow-color": CROSS, "line-style": big ? "solid" : "dashed", "line-dash-pattern": [7, 3], opacity: big ? 0.4 : 0.75 },
      },
      { selector: ".faded", style: { opacity: big ? 0.07 : 0.16, "text-opacity": 0 } },
      { selector: "edge.lit", style: { opacity: 0.95, "z-index": 10 } },
      {
        selector: "node.picked",
        style: { "border-width": 4, "border-color": "#0f172a", "font-size": 13, "font-weight": 700, "z-index": 20, "text-opacity": 1 },
      },
      { selector: "node.near", style: { "text-opacity": 1, "min-zoomed-font-size": 0 } },
    ];
  }

  /** The Cytoscape instance; a big graph (thousands of links) gets the renderer's fast paths:
   * haystack edges without arrows, and edges hidden while panning and zooming. */
  function createGraph(big) {
    if (app.cy) app.cy.destroy();
    state.big = big;
    const cy = cytoscape({
      container: $("#graph"),
      elements: [],
      style: graphStyle(big),
      minZoom: 0.1,
      maxZoom: 4,
      pixelRatio: big ? 1 : "auto",
      hideEdgesOnViewport: big,

    });
    cy.on("tap", "node", (event) => select(event.target.id()));
    cy.on("tap", (event) => {
      if (event.target === cy) clearSelection();
    });
    cy.on("mouseover", "node", (event) => showTooltip(event, nodeTip(event.target)));
    cy.on("mouseover", "edge", (event) => showTooltip(event, edgeTip(event.target)));
    cy.on("mouseout", "node, edge", hideTooltip);
    cy.on("pan zoom", hideTooltip);
    app.cy = cy;
  }

  function renderGraph(collab) {
    const started = performance.now();
    const nodes = collab.nodes;
    const edges = collab.edges;
    const big = edges.length > BIG;
    if (big !== state.big) createGraph(big);
    const cy = app.cy;
    // credit is very skewed (a bulk handover can make one store earn 100x the median):
    // sizes and widths follow its logarithm
    const nodeScale = logScale(nodes.map((n) => n.credit));
    const edgeScale = logScale(edges.map((e) => e.amount));
    state.edgeScale = edgeScale;
    const shrink = nodes.length > 200 ? 0.6 : 1; // many stores: smaller marks, less overlap
    const elements = nodes.map((n) => {
      const t = nodeScale(n.credit);
      return {
        group: "nodes",
        data: { id: n.id, label: shortName(n), size: (12 + 40 * t) * shrink, font: 12 + 5 * t, colour: nodeColour(n), node: n },
        classes: n.in_scope ? "" : "out",
      };
    });
    for (const e of edges) {
      elements.push({
        group: "edges",
        data: { id: `${e.source}->${e.target}`, source: e.source, target: e.target, width: (0.8 + 6.5 * edgeScale(e.amount)) * shrink, edge: e },
        classes: e.cross_brand ? "cross" : "",
      });
    }
    cy.batch(() => {
      cy.elements().remove();
      cy.add(elements);
    });
    const laid = performance.now();
    layout();
    app.timings = { elements: laid - started, layout: performance.now() - laid };
    const el = $("#graph");
    el.dataset.nodes = String(nodes.length);
    el.dataset.edges = String(edges.length);
    $("#graph-count").textContent = `${nodes.length} stores · ${edges.length} links`;
    const card = $(".graph-card");
    card.querySelector(".graph-empty")?.remove();
    if (!nodes.length) {
      card.insertAdjacentHTML("beforeend", '<div class="graph-empty">No settled credit for these filters.</div>');
    }
  }

  /** A function mapping values to [0, 1] by their logarithm, over the range of ``values``. */
  function logScale(values) {
    const logs = values.filter((v) => v > 0).map((v) => Math.log(v));
    const lo = Math.min(...logs);
    const hi = Math.max(...logs);
    if (!logs.length || hi - lo < 1e-9) return () => 0.5;
    return (v) => (v > 0 ? (Math.log(v) - lo) / (hi - lo) : 0);
  }

  function layout() {
    const cy = app.cy;
    if (!cy.nodes().length) return;
    const edgeScale = state.edgeScale || (() => 0.5);
    withSeed(7, () =>
      cy
        .layout({
          name: "fcose",
          quality: state.big ? "default" : "proof",
          randomize: true,
          animate: false,
          fit: true,
          padding: 28,
          nodeDimensionsIncludeLabels: !state.big, // room for the labels, where they are shown
          packComponents: true,
          nodeRepulsion: () => 6500,
          idealEdgeLength: (edge) => 95 - 45 * edgeScale(edge.data("edge").amount),
          edgeElasticity: () => 0.35,
          gravity: 0.35,
          gravityRange: 3.2,
          numIter: state.big ? 1000 : 2500,
          tile: true,
          tilingPaddingVertical: 14,
          tilingPaddingHorizontal: 14,
        })
        .run(),
    );
    cy.fit(undefined, 24); // labels included, which the layout's own fit leaves out
  }

  function nodeTip(ele) {
    const n = ele.data("node");
    return `<b>${esc(n.name || n.id)}</b><br><span class="dim">${esc(brandName(n.brand))} · ${esc(n.city)} · ${esc(n.region)}</span><br>
      credit ${money(n.credit)} · ${pct(n.assist_ratio)} on others' deals<br>
      partners earned ${money(n.received)} on its ${n.deals_closed} deals`;
  }

  function edgeTip(ele) {
    const e = ele.data("edge");
    const name = (id) => esc(shortName(app.cy.getElementById(id).data("node")));
    return `<b>${name(e.source)}</b> earned <b>${moneyFull(e.amount)}</b><br>on ${e.deals} deal${e.deals === 1 ? "" : "s"} closed by <b>${name(e.target)}</b>${e.cross_brand ? '<br><span class="dim">cross-brand</span>' : ""}`;
  }

  function showTooltip(event, html) {
    const tip = $("#tooltip");
    const card = $(".graph-card").getBoundingClientRect();
    const box = $("#graph").getBoundingClientRect();
    const p = event.renderedPosition || event.target.renderedPosition();
    tip.innerHTML = html;
    tip.hidden = false;
    const x = Math.min(box.left - card.left + p.x + 14, card.width - tip.offsetWidth - 8);
    tip.style.left = `${Math.max(8, x)}px`;
    tip.style.top = `${box.top - card.top + p.y + 14}px`;
  }

  function hideTooltip() {
    $("#tooltip").hidden = true;
  }

  function recolour() {
    app.cy.batch(() => app.cy.nodes().forEach((ele) => ele.data("colour", nodeColour(ele.data("node")))));
    renderLegend(state.collab);
  }

  function communitySizes(collab) {
    const sizes = new Map();
    for (const n of collab.nodes) sizes.set(n.community, (sizes.get(n.community) || 0) + 1);
    return sizes;
  }

  function renderLegend(collab) {
    let rows;
    if (state.colourBy === "community") {
      const sizes = communitySizes(collab);
      const shown = [...sizes.keys()].filter((c) => c < COMMUNITY_COLOURS.length && sizes.get(c) > 1).sort((a, b) => a - b);
      rows = shown.map((c) => `<div class="row"><span class="dot" style="background:${communityColour(c)}"></span>#${c + 1} · ${sizes.get(c)} stores</div>`);
      rows.push(`<div class="row"><span class="dot" style="background:${communityColour(99)}"></span>smaller groups</div>`);
    } else {
      const present = [...new Set(collab.nodes.map((n) => n.brand).filter(Boolean))].sort();
      rows = present.map((b) => `<div class="row"><span class="dot" style="background:${brandColour(b)}"></span>${esc(brandName(b))} store</div>`);
    }
    if (collab.nodes.some((n) => !n.in_scope)) rows.push('<div class="row"><span class="dot out"></span>partner outside the filter</div>');
    rows.push('<div class="row"><span class="line"></span>credit on a same-brand store\'s deals</div>');
    rows.push('<div class="row"><span class="line cross"></span>cross-brand credit</div>');
    rows.push('<div class="row sizes">size: credit earned · width: credit on the other\'s deals (log scales) · arrow: earner → closer</div>');
    $("#legend").innerHTML = rows.join("");
  }

  // --- selection and the store detail ---------------------------------------------------------
  function highlight(id) {
    const cy = app.cy;
    const node = cy.getElementById(id);
    cy.batch(() => {
      cy.elements().removeClass("faded lit picked near");
      if (node.empty()) return;
      cy.elements().addClass("faded");
      const hood = node.closedNeighborhood();
      hood.removeClass("faded");
      hood.edges().addClass("lit");
      hood.nodes().addClass("near");
      node.addClass("picked");
    });
  }

  function clearSelection() {
    state.selected = null;
    state.detailSeq++;
    if (app.cy) app.cy.elements().removeClass("faded lit picked near");
    const detail = $("#detail");
    delete detail.dataset.store;
    detail.innerHTML = `<div class="empty"><h2>Store detail</h2><p>Click a store in the graph to see its top
      contributors, the partners that earned credit on its deals (inflows) and the partners whose deals it
      helped win (outflows).</p></div>`;
  }

  /** Pan and zoom (at most 1.6x) to a node and its partners. */
  function focus(id) {
    const cy = app.cy;
    const node = cy.getElementById(id);
    if (node.empty()) return;
    const box = node.closedNeighborhood().boundingBox();
    const pad = 50;
    const zoom = Math.max(cy.minZoom(), Math.min(1.6, (cy.width() - 2 * pad) / box.w, (cy.height() - 2 * pad) / box.h));
    const pan = { x: (cy.width() - zoom * (box.x1 + box.x2)) / 2, y: (cy.height() - zoom * (box.y1 + box.y2)) / 2 };
    cy.stop();
    cy.animate({ zoom, pan }, { duration: 300 });
  }

  async function select(id, options) {
    state.selected = id;
    highlight(id);
    if (!options || options.focus !== false) focus(id);
    const seq = ++state.detailSeq;
    const detail = $("#detail");
    const f = filterParams();
    try {
      const data = await api(`/v1/graph/stores/${encodeURIComponent(id)}`, { from: f.from, to: f.to, limit: 6 });
      if (seq !== state.detailSeq) return;
      renderDetail(data);
      detail.dataset.store = id;
    } catch (error) {
      if (seq === state.detailSeq) handle(error);
    }
  }

  function bars(items, options) {
    if (!items.length) return `<p class="muted">${options.empty}</p>`;
    const max = Math.max(1, ...items.map(options.amount));
    return `<ul class="bars">${items
      .map((item) => {
        const amount = options.amount(item);
        const target = options.link ? options.link(item) : null;
        return `<li${target ? ` class="link" data-store="${esc(target)}"` : ""} title="${esc(options.title(item))}">
          <span class="name">${options.label(item)}</span><span class="amount">${money(amount)}</span>
          <span class="bar">${options.fill(item, max)}</span></li>`;
      })
      .join("")}</ul>`;
  }

  /** A store's brokerage as its rank among the stores drawn (the value itself is in the title). */
  function brokerage(n) {
    const nodes = state.collab ? state.collab.nodes : [];
    const rank = 1 + nodes.filter((m) => m.centrality > n.centrality).length;
    const of = nodes.length;
    const title = `weighted betweenness ${n.centrality.toFixed(4)}: how much of the collaboration between other stores runs through it`;
    return `<span title="${esc(title)}">${n.centrality > 0 && of ? `#${rank} of ${of}` : "none"}</span>`;
  }

  function community(n) {
    const size = state.collab ? communitySizes(state.collab).get(n.community) || 1 : 1;
    return `<span class="swatch-inline" style="background:${communityColour(n.community)}"></span>#${n.community + 1} · ${size} store${size === 1 ? "" : "s"}`;
  }

  function renderDetail(data) {
    const n = data.store;
    // brokerage and community as in the graph drawn (which the filters may have narrowed)
    const drawn = (state.collab && state.collab.nodes.find((m) => m.id === n.id)) || n;
    const stat = (label, value) => `<div class="stat"><div class="label">${label}</div><div class="value">${value}</div></div>`;
    const nodeBrand = n.brand;
    const flowList = (items, verb) =>
      bars(items.slice(0, 8), {
        empty: verb === "in" ? "No other store earned credit on its deals." : "It earned nothing on other stores' deals.",
        amount: (f) => f.amount,
        link: (f) => (app.cy.getElementById(f.store).nonempty() ? f.store : null),
        title: (f) => `${f.name || f.store}: ${moneyFull(f.amount)} over ${f.deals} deal(s)`,
        label: (f) => `${dot(f.brand)}${esc((f.name || f.store).split(" · ")[0])}${f.brand !== nodeBrand ? '<span class="tag">cross-brand</span>' : ""}`,
        fill: (f, max) => `<span style="width:${(100 * f.amount) / max}%;background:${f.brand !== nodeBrand ? CROSS : SAME}"></span>`,
      });
    const people = bars(data.contributors, {
      empty: "No staff credit for this store.",
      amount: (s) => s.credit,
      title: (s) => `${s.name || s.staff}: ${moneyFull(s.own)} on own deals, ${moneyFull(s.assists)} on others'`,
      label: (s) => `${esc(s.name || s.staff)} <span class="muted">${esc(s.staff)}</span>`,
      fill: (s, max) =>
        `<span class="own" style="width:${(100 * s.own) / max}%"></span><span class="assist" style="width:${(100 * s.assists) / max}%"></span>`,
    });
    $("#detail").innerHTML = `
      <header><span class="swatch" style="background:${brandColour(n.brand)}"></span>
        <div><h2>${esc(n.name || n.id)}</h2>
        <div class="where">${esc(brandName(n.brand))} · ${esc(n.city)} · ${esc(n.region)} · <code>${esc(n.id)}</code></div></div>
      </header>
      <div class="stats">
        ${stat("Credit earned", money(n.credit))}
        ${stat("On own deals", money(n.own))}
        ${stat("On others' deals", money(n.assists))}
        ${stat("Partners earned here", money(n.received))}
        ${stat("Deals closed", whole.format(n.deals_closed))}
        ${stat("Partners", whole.format(n.partners))}
        ${stat("Assist ratio", `${pct(n.assist_ratio)}<div class="ratio"><span style="width:${100 * n.assist_ratio}%"></span></div>`)}
        ${stat("Brokerage", brokerage(drawn))}
        ${stat("Community", community(drawn))}
      </div>
      <div class="section"><h3>Top contributors</h3>
        <p class="hint">grey: on this store's own deals · orange: on deals other stores closed</p>${people}</div>
      <div class="section"><h3>Inflows · who helped it win</h3>${flowList(data.inflows, "in")}</div>
      <div class="section"><h3>Outflows · whom it helped</h3>${flowList(data.outflows, "out")}</div>`;
    for (const li of document.querySelectorAll("#detail li.link")) {
      li.addEventListener("click", () => select(li.dataset.store));
    }
  }

  // --- flows ----------------------------------------------------------------------------------
  /** Keep only the groups with credit across the line when there are many (a 30-city matrix is
   * mostly an empty diagonal); returns the matrix and how many groups were left out. */
  function crossingOnly(m) {
    if (m.labels.length <= 12) return [m, 0];
    const keep = m.labels
      .map((_, i) => i)
      .filter((i) => m.amounts[i].some((v, j) => j !== i && v > 0) || m.amounts.some((row, k) => k !== i && row[i] > 0));
    const pick = (rows) => keep.map((i) => keep.map((j) => rows[i][j]));
    return [{ ...m, labels: keep.map((i) => m.labels[i]), amounts: pick(m.amounts), deals: pick(m.deals) }, m.labels.length - keep.length];
  }

  function renderFlows(full, container) {
    if (!full.labels.length) {
      container.innerHTML = '<p class="muted">No settled credit for these filters.</p>';
      return;
    }
    const [m, hidden] = crossingOnly(full);
    const n = m.labels.length;
    const label = m.level === "brand" ? brandName : (x) => x;
    let maxOff = 1;
    m.amounts.forEach((row, i) => row.forEach((v, j) => i !== j && (maxOff = Math.max(maxOff, v))));
    const maxAll = Math.max(1, ...m.amounts.flat());
    const dense = n > 8;
    const cell = (v, i, j) => {
      const deals = m.deals[i][j];
      const title = `${label(m.labels[i])} earned ${moneyFull(v)} on ${deals} deal(s) closed by ${label(m.labels[j])}`;
      if (i === j) {
        const t = Math.sqrt(v / maxAll);
        return `<td class="diag" style="background:rgba(148,163,184,${0.08 + 0.3 * t})" title="${esc(title)}">${v ? money(v) : "·"}</td>`;
      }
      if (!v) return `<td class="zero" title="${esc(title)}">·</td>`;
      const t = Math.sqrt(v / maxOff);
      const bg = heat(t);
      return `<td style="background:${bg};color:${t > 0.55 ? "#fff" : "#0f172a"}" title="${esc(title)}">${money(v)}</td>`;
    };
    const head = m.labels.map((l) => `<th scope="col">${esc(label(l))}</th>`).join("");
    const body = m.amounts
      .map((row, i) => {
        const across = row.reduce((a, v, j) => a + (i === j ? 0 : v), 0);
        return `<tr><th scope="row">${esc(label(m.labels[i]))}</th>${row.map((v, j) => cell(v, i, j)).join("")}<td class="total" title="credit earned on other groups' deals">${money(across)}</td></tr>`;
      })
      .join("");
    const pairs = [];
    m.amounts.forEach((row, i) => row.forEach((v, j) => i !== j && v > 0 && pairs.push({ i, j, v, deals: m.deals[i][j] })));
    pairs.sort((a, b) => b.v - a.v);
    const top = bars(pairs.slice(0, 8), {
      empty: "No credit crossed the line.",
      amount: (p) => p.v,
      title: (p) => `${label(m.labels[p.i])} earned ${moneyFull(p.v)} on ${p.deals} deal(s) closed by ${label(m.labels[p.j])}`,
      label: (p) =>
        `<b>${esc(label(m.labels[p.i]))}</b> → <b>${esc(label(m.labels[p.j]))}</b> <span class="muted">· ${p.deals} deal${p.deals === 1 ? "" : "s"}</span>`,
      fill: (p, max) => `<span style="width:${(100 * p.v) / max}%;background:${CROSS}"></span>`,
    });
    const plural = { brand: "brands", city: "cities", region: "regions" }[m.level];
    const note = hidden ? ` ${hidden} ${plural} with no credit across the line are left out of the matrix.` : "";
    container.innerHTML = `<div class="flows-body${dense ? " stacked" : ""}">
      <div class="matrix-wrap"><table class="matrix${dense ? " dense" : ""}" data-level="${m.level}">
      <thead><tr><th class="corner">earned by ↓ · closed by →</th>${head}<th class="total" scope="col">across</th></tr></thead>
      <tbody>${body}</tbody></table>
      <div class="scale"><span>cross-group credit</span><span class="ramp"></span><span>${money(maxOff)}</span></div></div>
      <div class="pairs"><h3>Largest flows across the line</h3>
      <p class="hint">Earned by → closed by. ${money(m.between)} of ${money(m.total)} (${pct(share(m.between, m.total))})
        was earned on another ${m.level}'s deals.${note}</p>${top}</div>
      </div>`;
  }

  function heat(t) {
    // white-orange ramp: #fff7ed -> #fdba74 -> #ea580c -> #7c2d12
    const stops = [
      [255, 247, 237],
      [253, 186, 116],
      [234, 88, 12],
      [124, 45, 18],
    ];
    const x = Math.min(0.999, Math.max(0, t)) * (stops.length - 1);
    const i = Math.floor(x);
    const f = x - i;
    const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
    return `rgb(${c.join(",")})`;
  }

  // --- farmers --------------------------------------------------------------------------------
  function renderFarmers(data) {
    const table = $("#farmers");
    if (!data.farmers.length) {
      table.innerHTML = '<tbody><tr><td class="muted">No farmers for these filters.</td></tr></tbody>';
      return;
    }
    const rows = data.farmers
      .map((f, i) => {
        const inGraph = f.store && app.cy.getElementById(f.store).nonempty();
        return `<tr${inGraph ? ` class="link" data-store="${esc(f.store)}"` : ""} title="${esc(`${f.closers_helped} closer(s) helped; ${moneyFull(f.other_stores)} for another store, ${moneyFull(f.other_brands)} for another brand`)}">
          <td class="rank">${i + 1}</td>
          <td><div class="who">${esc(f.name || f.staff)}</div><div class="sub">${dot(f.brand)}${esc((f.store_name || f.store || "").split(" · ")[0])}</div></td>
          <td class="num">${money(f.assists)}</td>
          <td class="num">${pct(f.assist_ratio)}<span class="ratio"><span style="width:${100 * f.assist_ratio}%"></span></span></td>
          <td class="num">${f.deals_assisted}</td>
          <td class="num">${f.other_brands ? money(f.other_brands) : "–"}</td></tr>`;
      })
      .join("");
    table.innerHTML = `<thead><tr><th></th><th>Staff · home store</th><th class="num">On others' deals</th>
      <th class="num" title="share of their credit earned on deals others closed">Share</th><th class="num">Deals</th><th class="num">Cross-brand</th></tr></thead><tbody>${rows}</tbody>`;
    for (const tr of table.querySelectorAll("tr.link")) {
      tr.addEventListener("click", () => select(tr.dataset.store));
    }
  }

  // --- the key --------------------------------------------------------------------------------
  function askKey(message) {
    const dialog = $("#key-dialog");
    const error = $("#key-error");
    error.hidden = !message;
    error.textContent = message || "";
    $("#key-input").value = "";
    if (!dialog.open) dialog.showModal();
    $("#key-input").focus();
    updateKeyButton();
  }

  function updateKeyButton() {
    $("#key-button").classList.toggle("ok", Boolean(localStorage.getItem(KEY)));
  }

  // --- wiring ---------------------------------------------------------------------------------
  function init() {
    cytoscape.use(cytoscapeFcose);
    createGraph(false);
    $("#key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("#key-input").value.trim();
      if (!key) return;
      localStorage.setItem(KEY, key);
      $("#key-dialog").close();
      updateKeyButton();
      refresh();
    });
    $("#key-forget").addEventListener("click", () => {
      localStorage.removeItem(KEY);
      askKey("");
    });
    $("#key-button").addEventListener("click", () => askKey(""));
    for (const id of ["#f-from", "#f-to", "#f-region", "#f-brand"]) {
      $(id).addEventListener("change", refresh);
    }
    $("#f-reset").addEventListener("click", () => {
      $("#f-region").value = "";
      $("#f-brand").value = "";
      [$("#f-from").value, $("#f-to").value] = state.range || ["", ""];
      refresh();
    });
    for (const button of document.querySelectorAll("#flow-level button")) {
      button.addEventListener("click", () => {
        state.flowLevel = button.dataset.level;
        $("#flow-level-name").textContent = button.textContent.toLowerCase();
        for (const b of document.querySelectorAll("#flow-level button")) b.classList.toggle("on", b === button);
        refreshFlows();
      });
    }
    $("#fit").addEventListener("click", () => {
      app.cy.stop();
      app.cy.fit(undefined, 28);
    });
    for (const button of document.querySelectorAll("#colour-by button")) {
      button.addEventListener("click", () => {
        state.colourBy = button.dataset.colour;
        for (const b of document.querySelectorAll("#colour-by button")) b.classList.toggle("on", b === button);
        if (state.collab) recolour();
      });
    }
    $("#relayout").addEventListener("click", layout);
    updateKeyButton();
    if (localStorage.getItem(KEY)) refresh();
    else {
      $("#graph").dataset.state = "waiting"; // for a key
      askKey("");
    }
  }

  init();
})();
