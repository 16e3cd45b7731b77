/* contribnet's leaders' page: reads /v1/graph/* with a leader or admin key, and a staff
 * member's own view (/v1/staff/{id}/view) with a staff key; no build step.
 *
 * Data: GET /v1/graph/collaboration (store graph with measures), /v1/graph/flows (flow matrix),
 * /v1/graph/farmers (leaderboard), /v1/graph/trend (month by month), /v1/graph/directory (what
 * the search finds) and /v1/graph/stores/{id} (one store's collaborators, under the filters).
 * The view -- filters, selected store, flow level, colouring, language -- lives in the URL's
 * query string, so a reload or a shared link shows the same view.
 * Drawing: Cytoscape.js with the fCoSE layout, vendored in /static/vendor (see ../build.sh).
 * Words: i18n.js (English and zh-CN), numbers and dates in the chosen locale.
 */
(function () {
  "use strict";

  const KEY = "contribnet.apiKey";
  const LANG_KEY = "contribnet.lang";
  const $ = (selector) => document.querySelector(selector);
  const $$ = (selector) => [...document.querySelectorAll(selector)];
  const I18N = window.contribnetI18n;
  const state = {
    lang: "en",
    flowLevel: "city",
    brands: [],
    collab: null,
    selected: null,
    seq: 0,
    detailSeq: 0,
    facetsReady: false,
    colourBy: "brand",
    range: ["", ""],
    data: {}, // the last answers, for CSV export
    directory: null,
    cursor: null,
    mode: "leader",
    me: null,
    pending: null, // the view the URL asked for, applied once the facets are known
    profileStaff: null, // the staff member whose profile is shown
    profileSeq: 0,
    leadersSeq: 0,
  };
  const app = { state, cy: null };
  window.contribnet = app;

  // --- words and numbers ------------------------------------------------------------------------
  function t(key, vars) {
    const table = I18N.messages[state.lang] || I18N.messages.en;
    let text = table[key] ?? I18N.messages.en[key] ?? key;
    if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
    return text;
  }
  let nf, compact, pctFmt, pctFine, dayFmt, monthFmt, dateTimeFmt;
  function setFormats() {
    nf = new Intl.NumberFormat(state.lang, { maximumFractionDigits: 0 });
    compact = new Intl.NumberFormat(state.lang, { notation: "compact", maximumSignificantDigits: 3 });
    pctFmt = new Intl.NumberFormat(state.lang, { style: "percent", maximumFractionDigits: 0 });
    pctFine = new Intl.NumberFormat(state.lang, { style: "percent", maximumFractionDigits: 1 });
    dayFmt = new Intl.DateTimeFormat(state.lang, { year: "numeric", month: "short", day: "numeric", timeZone: "Asia/Shanghai" });
    monthFmt = new Intl.DateTimeFormat(state.lang, { year: "2-digit", month: "short", timeZone: "UTC" });
    dateTimeFmt = new Intl.DateTimeFormat(state.lang, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Asia/Shanghai" });
  }
  const money = (fen) => "¥" + compact.format(fen / 100);
  const moneyFull = (fen) => "¥" + new Intl.NumberFormat(state.lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(fen / 100);
  const pct = (x) => (x > 0 && x < 0.1 ? pctFine : pctFmt).format(x);
  const share = (part, total) => (total > 0 ? part / total : 0);
  const day = (iso) => dayFmt.format(new Date(iso));
  const month = (ym) => monthFmt.format(new Date(ym + "-01T00:00:00Z"));
  const esc = (text) =>
    String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  const BRAND_COLOURS = { nio: "#2563eb", onvo: "#0d9488" };
  const BRAND_NAMES = { "zh-CN": { nio: "蔚来", onvo: "乐道" } };
  const REGION_NAMES = {
    "zh-CN": { East: "华东", North: "华北", South: "华南", Southwest: "西南", Northeast: "东北", Central: "华中", Northwest: "西北" },
  };
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

  function brandName(brand) {
    if (!brand) return "?";
    const local = (BRAND_NAMES[state.lang] || {})[brand];
    if (local) return local;
    return brand.length <= 4 ? brand.toUpperCase() : brand[0].toUpperCase() + brand.slice(1);
  }
  const regionName = (region) => ((REGION_NAMES[state.lang] || {})[region] || region || "");
  const stageName = (stage) => t("stage." + stage).replace(/^stage\./, "");
  const levelLabel = (level) => (level === "brand" ? brandName : level === "region" ? regionName : (x) => x);
  const shortName = (node) => (node.name || node.id).split(" · ")[0];
  const dot = (brand) => `<span class="dot" style="background:${brandColour(brand)}"></span>`;

  // --- the URL ----------------------------------------------------------------------------------
  const URL_KEYS = ["lang", "from", "to", "region", "brand", "store", "flows", "colour", "staff", "profile"];

  function readUrl() {
    const q = new URLSearchParams(location.search);
    const out = {};
    for (const k of URL_KEYS) if (q.get(k)) out[k] = q.get(k);
    return out;
  }

  /** Write the view into the address bar (replaceState: the back button leaves the page). */
  function writeUrl() {
    const q = new URLSearchParams();
    q.set("lang", state.lang);
    if (state.mode === "staff") {
      if (state.staffId && !(state.me && state.me.role === "staff")) q.set("staff", state.staffId);
      const f = filterParams();
      if (f.from) q.set("from", f.from);
      if (f.to) q.set("to", f.to);
    } else {
      const f = filterParams();
      if (f.from && f.from !== state.range[0]) q.set("from", f.from);
      if (f.to && f.to !== state.range[1]) q.set("to", f.to);
      if (f.region) q.set("region", f.region);
      if (f.brand) q.set("brand", f.brand);
      if (state.selected) q.set("store", state.selected);
      if (state.flowLevel !== "city") q.set("flows", state.flowLevel);
      if (state.colourBy !== "brand") q.set("colour", state.colourBy);
      if (state.profileStaff) q.set("profile", state.profileStaff);
    }
    const url = `${location.pathname}?${q}`;
    if (url !== location.pathname + location.search) history.replaceState(null, "", url);
  }

  // --- the API ----------------------------------------------------------------------------------
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
    if (response.status === 401) throw new AuthError(body.detail || response.statusText);
    if (!response.ok) {
      const error = new Error(body.detail || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
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
      askKey(error.message ? t("key.refused", { msg: error.message }) : "");
    } else {
      setNotice(t("error.load", { msg: error.message }));
    }
  }

  // --- static words -----------------------------------------------------------------------------
  function applyLanguage() {
    document.documentElement.lang = state.lang;
    setFormats();
    for (const el of $$("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of $$("[data-i18n-html]")) el.innerHTML = t(el.dataset.i18nHtml); // our own markup
    for (const el of $$("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
    for (const el of $$("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
    $("#lang").value = state.lang;
    document.title = `contribnet · ${t("title")}`;
    for (const option of $("#f-region").options) if (option.value) option.textContent = regionName(option.value);
    for (const option of $("#f-brand").options) if (option.value) option.textContent = brandName(option.value);
    $("#flow-level-title").textContent = t("flows.between", { level: t(state.flowLevel === "city" ? "flows.cities" : "flows.regions") });
  }

  /** Re-render everything already loaded in the new language (no new request). */
  function rerender() {
    applyLanguage();
    if (state.mode === "staff") {
      if (state.data.staffView) renderStaffView(state.data.staffView);
      writeUrl();
      return;
    }
    if (state.collab) {
      renderKpis(state.collab);
      renderLegend(state.collab);
      updateGraphLabels();
    }
    if (state.data["flows-brand"]) renderFlows(state.data["flows-brand"], $("#flows-brand"));
    if (state.data.flows) renderFlows(state.data.flows, $("#flows"));
    if (state.data.farmers) renderFarmers(state.data.farmers);
    if (state.data.trend) renderTrend(state.data.trend);
    if (state.data.leaders) renderLeaders(state.data.leaders);
    if (state.data.profile && state.profileStaff) renderProfile(state.data.profile);
    if (state.data.detail && state.selected) renderDetail(state.data.detail);
    else if (!state.selected) renderEmptyDetail();
    writeUrl();
  }

  // --- loading ----------------------------------------------------------------------------------
  async function refresh() {
    const seq = ++state.seq;
    const first = !state.collab || state.firstLoad;
    const filters = filterParams();
    $("#graph").dataset.state = "loading";
    setNotice(null);
    try {
      const [collab, brandFlows, flows, farmers, directory] = await Promise.all([
        api("/v1/graph/collaboration", { level: "store", ...filters }),
        api("/v1/graph/flows", { level: "brand", ...filters }),
        api("/v1/graph/flows", { level: state.flowLevel, ...filters }),
        api("/v1/graph/farmers", { ...filters, limit: 25 }),
        api("/v1/graph/directory", filters),
      ]);
      if (seq !== state.seq) return; // a newer request is on its way
      state.collab = collab;
      state.directory = directory;
      if (fillFacets(collab.available)) {
        // the URL's filters differ from the whole period: load again with them
        state.firstLoad = true;
        refresh();
        return;
      }
      renderKpis(collab);
      renderGraph(collab);
      renderLegend(collab);
      state.data["flows-brand"] = brandFlows;
      state.data.flows = flows;
      state.data.farmers = farmers;
      renderFlows(brandFlows, $("#flows-brand"));
      renderFlows(flows, $("#flows"));
      renderFarmers(farmers);
      loadLeaders();
      if (state.profileStaff) showProfile(state.profileStaff);
      // the selection lives under the filters: kept (and its detail re-read) only if the store
      // is still drawn
      if (state.selected && app.cy.getElementById(state.selected).nonempty()) {
        await select(state.selected, { focus: first });
      } else {
        clearSelection();
      }
      if (seq !== state.seq) return;
      state.firstLoad = false;
      writeUrl();
      $("#graph").dataset.state = "ready";
    } catch (error) {
      if (seq === state.seq) handle(error);
    }
  }

  async function refreshFlows() {
    try {
      const flows = await api("/v1/graph/flows", { level: state.flowLevel, ...filterParams() });
      state.data.flows = flows;
      renderFlows(flows, $("#flows"));
    } catch (error) {
      handle(error);
    }
  }

  async function refreshTrend() {
    try {
      const trend = await api("/v1/graph/trend", { ...filterParams(), store: state.selected || "" });
      state.data.trend = trend;
      renderTrend(trend);
    } catch (error) {
      handle(error);
    }
  }

  /** Fill the filters' choices once; the URL's view is applied then. True if the URL asked for
   * other filters than the page has just loaded (so the caller loads again). */
  function fillFacets(available) {
    state.brands = available.brands;
    if (state.facetsReady) return false;
    for (const [select, values, label] of [
      [$("#f-region"), available.regions, regionName],
      [$("#f-brand"), available.brands, brandName],
    ]) {
      for (const value of values) select.add(new Option(label(value), value));
    }
    for (const input of [$("#f-from"), $("#f-to")]) {
      input.min = available.first_day || "";
      input.max = available.last_day || "";
    }
    state.range = [available.first_day || "", available.last_day || ""];
    state.facetsReady = true;
    const want = state.pending || {};
    state.pending = null;
    $("#f-from").value = want.from || state.range[0];
    $("#f-to").value = want.to || state.range[1];
    $("#f-region").value = want.region && available.regions.includes(want.region) ? want.region : "";
    $("#f-brand").value = want.brand && available.brands.includes(want.brand) ? want.brand : "";
    return Boolean(want.from || want.to || $("#f-region").value || $("#f-brand").value);
  }

  // --- totals -----------------------------------------------------------------------------------
  function renderKpis(collab) {
    const s = collab.summary;
    const cards = [
      [t("kpi.deals"), nf.format(s.deals), t("kpi.dealsSub", { n: nf.format(s.contributors) })],
      [t("kpi.credit"), money(s.credit), t("kpi.creditSub")],
      [t("kpi.stores"), pct(share(s.cross_store, s.credit)), t("kpi.storesSub", { m: money(s.cross_store) })],
      [t("kpi.brands"), pct(share(s.cross_brand, s.credit)), t("kpi.brandsSub", { m: money(s.cross_brand) })],
      [t("kpi.cities"), pct(share(s.cross_city, s.credit)), t("kpi.citiesSub", { m: money(s.cross_city) })],
      [t("kpi.nodes"), nf.format(collab.nodes.length), t("kpi.nodesSub", { links: nf.format(collab.edges.length), communities: nf.format(collab.communities) })],
    ];
    $("#kpis").innerHTML = cards
      .map(([label, value, sub]) => `<div class="kpi"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div><div class="sub">${esc(sub)}</div></div>`)
      .join("");
  }

  // --- the graph --------------------------------------------------------------------------------
  /** Run ``fn`` with Math.random seeded (mulberry32), so a layout is the same on every load. */
  function withSeed(seed, fn) {
    const original = Math.random;
    let a = seed >>> 0;
    Math.random = function () {
      a = (a + 0x6d2b79f5) >>> 0;
      let x = a;
      x = Math.imul(x ^ (x >>> 15), x | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    try {
      return fn();
    } finally {
      Math.random = original;
    }
  }

  /** Labels stay readable when the graph is zoomed out to fit: at least 10.5 px on screen for
   * the 30 stores with the most credit (the ones most looked for), whatever the zoom. Written
   * into each node's data (``fz``), which the style reads. */
  function updateLabelSizes() {
    const cy = app.cy;
    if (!cy || state.big) return;
    const zoom = cy.zoom();
    cy.batch(() =>
      cy.nodes().forEach((ele) => {
        const floor = ele.data("rank") < 30 ? 10.5 / zoom : 0;
        const size = Math.round(Math.min(Math.max(ele.data("font"), floor), 28) * 10) / 10;
        if (ele.data("fz") !== size) ele.data("fz", size);
      }),
    );
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
          "font-size": "data(fz)",
          "font-weight": 500,
          color: "#1e293b",
          "text-valign": "bottom",
          "text-margin-y": 3,
          "text-outline-color": "#ffffff",
          "text-outline-width": 2,
          "text-outline-opacity": 0.9,
          "min-zoomed-font-size": 7,
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
        style: { "border-width": 4, "border-color": "#0f172a", "font-weight": 700, "z-index": 20, "text-opacity": 1 },
      },
      { selector: "node.near", style: { "text-opacity": 1, "min-zoomed-font-size": 0 } },
      {
        selector: "node.hit",
        style: { "border-width": 4, "border-color": "#f59e0b", "text-opacity": 1, "min-zoomed-font-size": 0, "z-index": 15, opacity: 1 },
      },
      {
        selector: "node.cursor",
        style: { "overlay-color": "#3b82f6", "overlay-opacity": 0.25, "overlay-padding": 6, "text-opacity": 1, "min-zoomed-font-size": 0, "z-index": 25 },
      },
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
      if (event.target === cy) {
        clearSelection();
        writeUrl();
        refreshTrend();
      }
    });
    cy.on("mouseover", "node", (event) => showTooltip(event, nodeTip(event.target)));
    cy.on("mouseover", "edge", (event) => showTooltip(event, edgeTip(event.target)));
    cy.on("mouseout", "node, edge", hideTooltip);
    cy.on("pan zoom", hideTooltip);
    let pending = false;
    cy.on("zoom", () => {
      // the label floor follows the zoom; once per frame
      if (pending || state.big) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        updateLabelSizes();
      });
    });
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
    const ranks = new Map([...nodes].sort((a, b) => b.credit - a.credit).map((n, i) => [n.id, i]));
    const elements = nodes.map((n) => {
      const x = nodeScale(n.credit);
      return {
        group: "nodes",
        data: { id: n.id, label: shortName(n), size: (12 + 40 * x) * shrink, font: 12 + 5 * x, fz: 12 + 5 * x, rank: ranks.get(n.id), colour: nodeColour(n), node: n },
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
    state.cursor = null;
    const laid = performance.now();
    layout();
    app.timings = { elements: laid - started, layout: performance.now() - laid };
    const el = $("#graph");
    el.dataset.nodes = String(nodes.length);
    el.dataset.edges = String(edges.length);
    updateGraphLabels();
    const card = $(".graph-card");
    card.querySelector(".graph-empty")?.remove();
    if (!nodes.length) {
      card.insertAdjacentHTML("beforeend", `<div class="graph-empty">${esc(t("graph.empty"))}</div>`);
    }
  }

  function updateGraphLabels() {
    const collab = state.collab;
    if (!collab) return;
    $("#graph-count").textContent = t("graph.count", { n: nf.format(collab.nodes.length), links: nf.format(collab.edges.length) });
    $("#graph").setAttribute("aria-label", t("graph.label", { n: nf.format(collab.nodes.length) }));
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
    cy.resize(); // the legend below may have changed the container's height
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
    fitAll();
  }

  /** The whole graph in view, labels included, after the container's size is re-read. */
  function fitAll() {
    const cy = app.cy;
    cy.stop();
    cy.resize();
    cy.fit(undefined, 24);
    updateLabelSizes(); // label sizes follow the zoom, and the labels' box with them
    cy.fit(undefined, 24);
    updateLabelSizes();
  }

  function nodeTip(ele) {
    const n = ele.data("node");
    return `<b>${esc(n.name || n.id)}</b><br><span class="dim">${esc(brandName(n.brand))} · ${esc(n.city)} · ${esc(regionName(n.region))}</span><br>
      ${esc(t("tip.node", { credit: money(n.credit), ratio: pct(n.assist_ratio) }))}<br>
      ${esc(t("tip.node2", { received: money(n.received), deals: nf.format(n.deals_closed) }))}`;
  }

  function edgeTip(ele) {
    const e = ele.data("edge");
    const name = (id) => esc(shortName(app.cy.getElementById(id).data("node")));
    return t("tip.edge", { a: name(e.source), m: esc(moneyFull(e.amount)), deals: nf.format(e.deals), b: name(e.target) }) +
      (e.cross_brand ? `<br><span class="dim">${esc(t("tip.cross"))}</span>` : "");
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
      rows = shown.map((c) => `<div class="row"><span class="dot" style="background:${communityColour(c)}"></span>${esc(t("legend.community", { c: c + 1, n: sizes.get(c) }))}</div>`);
      rows.push(`<div class="row"><span class="dot" style="background:${communityColour(99)}"></span>${esc(t("legend.smaller"))}</div>`);
    } else {
      const present = [...new Set(collab.nodes.map((n) => n.brand).filter(Boolean))].sort();
      rows = present.map((b) => `<div class="row"><span class="dot" style="background:${brandColour(b)}"></span>${esc(t("legend.store", { brand: brandName(b) }))}</div>`);
    }
    if (collab.nodes.some((n) => !n.in_scope)) rows.push(`<div class="row"><span class="dot out"></span>${esc(t("legend.out"))}</div>`);
    rows.push(`<div class="row"><span class="line"></span>${esc(t("legend.same"))}</div>`);
    rows.push(`<div class="row"><span class="line cross"></span>${esc(t("legend.cross"))}</div>`);
    rows.push(`<div class="row sizes">${esc(t("legend.sizes"))}</div>`);
    $("#legend").innerHTML = rows.join("");
  }

  // --- keyboard on the graph -------------------------------------------------------------------
  /** Arrow keys move a cursor to the nearest store in that direction; Enter selects it. */
  function onGraphKey(event) {
    const cy = app.cy;
    if (!cy || !cy.nodes().length) return;
    const dirs = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
    if (event.key in dirs) {
      event.preventDefault();
      const current = state.cursor ? cy.getElementById(state.cursor) : null;
      let next;
      if (!current || current.empty()) {
        next = state.selected ? cy.getElementById(state.selected) : cy.nodes().max((n) => n.data("node").credit).ele;
      } else {
        const [dx, dy] = dirs[event.key];
        const p = current.position();
        let best = null;
        let bestScore = Infinity;
        cy.nodes().forEach((n) => {
          if (n.same(current)) return;
          const q = n.position();
          const vx = q.x - p.x;
          const vy = q.y - p.y;
          const along = vx * dx + vy * dy;
          if (along <= 0) return;
          const across = Math.abs(vx * dy - vy * dx);
          const score = along + 2 * across;
          if (score < bestScore) [best, bestScore] = [n, score];
        });
        next = best || current;
      }
      moveCursor(next.id());
    } else if ((event.key === "Enter" || event.key === " ") && state.cursor) {
      event.preventDefault();
      select(state.cursor);
    } else if (event.key === "Escape") {
      clearSelection();
      writeUrl();
      refreshTrend();
    }
  }

  function moveCursor(id) {
    const cy = app.cy;
    cy.nodes(".cursor").removeClass("cursor");
    const node = cy.getElementById(id);
    node.addClass("cursor");
    state.cursor = id;
    $("#graph").dataset.cursor = id;
    const n = node.data("node");
    $("#graph-cursor").textContent = t("graph.cursor", { name: n.name || n.id, credit: money(n.credit), ratio: pct(n.assist_ratio) });
    // keep it on screen
    const p = node.renderedPosition();
    if (p.x < 20 || p.y < 20 || p.x > cy.width() - 20 || p.y > cy.height() - 20) {
      cy.stop();
      cy.animate({ center: { eles: node } }, { duration: 200 });
    }
  }

  // --- selection and the store detail -----------------------------------------------------------
  function highlight(id) {
    const cy = app.cy;
    const node = cy.getElementById(id);
    cy.batch(() => {
      cy.elements().removeClass("faded lit picked near hit");
      if (node.empty()) return;
      cy.elements().addClass("faded");
      const hood = node.closedNeighborhood();
      hood.removeClass("faded");
      hood.edges().addClass("lit");
      hood.nodes().addClass("near");
      node.addClass("picked");
    });
  }

  function renderEmptyDetail() {
    $("#detail").innerHTML = `<div class="empty"><h2>${esc(t("detail.title"))}</h2><p>${esc(t("detail.empty"))}</p></div>`;
  }

  function clearSelection() {
    state.selected = null;
    state.data.detail = null;
    state.detailSeq++;
    if (app.cy) app.cy.elements().removeClass("faded lit picked near hit");
    const detail = $("#detail");
    delete detail.dataset.store;
    renderEmptyDetail();
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
    options = options || {};
    state.selected = id;
    highlight(id);
    if (options.focus !== false) focus(id);
    writeUrl();
    const seq = ++state.detailSeq;
    const detail = $("#detail");
    detail.dataset.loading = "true";
    const f = filterParams();
    try {
      const [data, trend] = await Promise.all([
        api(`/v1/graph/stores/${encodeURIComponent(id)}`, { ...f, limit: 6 }),
        api("/v1/graph/trend", { ...f, store: id }),
      ]);
      if (seq !== state.detailSeq) return;
      state.data.detail = data;
      state.data.trend = trend;
      renderDetail(data);
      renderTrend(trend);
      detail.dataset.store = id;
      delete detail.dataset.loading;
    } catch (error) {
      if (seq !== state.detailSeq) return;
      if (error.status === 404) {
        clearSelection();
        writeUrl();
      } else handle(error);
    }
  }

  function bars(items, options) {
    if (!items.length) return `<p class="muted">${esc(options.empty)}</p>`;
    const max = Math.max(1, ...items.map(options.amount));
    return `<ul class="bars">${items
      .map((item) => {
        const amount = options.amount(item);
        const target = options.link ? options.link(item) : null;
        const link = target ? ` class="link" data-store="${esc(target)}" tabindex="0" role="button"` : "";
        return `<li${link} title="${esc(options.title(item))}">
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
    const title = t("detail.brokerageTitle", { v: n.centrality.toFixed(4) });
    return `<span title="${esc(title)}">${esc(n.centrality > 0 && of ? t("detail.rank", { rank, of }) : t("detail.none"))}</span>`;
  }

  function community(n) {
    const size = state.collab ? communitySizes(state.collab).get(n.community) || 1 : 1;
    return `<span class="swatch-inline" style="background:${communityColour(n.community)}"></span>${esc(t("detail.communityValue", { c: n.community + 1, n: size }))}`;
  }

  function filterText() {
    const f = filterParams();
    const parts = [];
    if (f.from || f.to) parts.push(`${f.from ? day(f.from + "T12:00:00+08:00") : "…"} – ${f.to ? day(f.to + "T12:00:00+08:00") : "…"}`);
    if (f.region) parts.push(regionName(f.region));
    if (f.brand) parts.push(brandName(f.brand));
    return parts.join(" · ") || t("detail.allFilters");
  }

  function renderDetail(data) {
    const n = data.store;
    // brokerage and community as in the graph drawn (which the filters may have narrowed)
    const drawn = (state.collab && state.collab.nodes.find((m) => m.id === n.id)) || n;
    const stat = (label, value) => `<div class="stat"><div class="label">${esc(label)}</div><div class="value">${value}</div></div>`;
    const nodeBrand = n.brand;
    const flowList = (items, verb) =>
      bars(items.slice(0, 8), {
        empty: verb === "in" ? t("detail.noIn") : t("detail.noOut"),
        amount: (f) => f.amount,
        link: (f) => (app.cy.getElementById(f.store).nonempty() ? f.store : null),
        title: (f) => t("detail.flowTitle", { name: f.name || f.store, m: moneyFull(f.amount), deals: nf.format(f.deals) }),
        label: (f) => `${dot(f.brand)}${esc((f.name || f.store).split(" · ")[0])}${f.brand !== nodeBrand ? `<span class="tag">${esc(t("detail.crossBrand"))}</span>` : ""}`,
        fill: (f, max) => `<span style="width:${(100 * f.amount) / max}%;background:${f.brand !== nodeBrand ? CROSS : SAME}"></span>`,
      });
    const people = bars(data.contributors, {
      empty: t("detail.noStaff"),
      amount: (s) => s.credit,
      title: (s) => t("detail.staffTitle", { name: s.name || s.staff, own: moneyFull(s.own), assists: moneyFull(s.assists) }),
      label: (s) => `${esc(s.name || s.staff)} <span class="muted">${esc(s.staff)}</span>`,
      fill: (s, max) =>
        `<span class="own" style="width:${(100 * s.own) / max}%"></span><span class="assist" style="width:${(100 * s.assists) / max}%"></span>`,
    });
    $("#detail").innerHTML = `
      <header><span class="swatch" style="background:${brandColour(n.brand)}"></span>
        <div class="who"><h2>${esc(n.name || n.id)}</h2>
        <div class="where">${esc(brandName(n.brand))} · ${esc(n.city)} · ${esc(regionName(n.region))} · <code>${esc(n.id)}</code></div>
        <div class="where filtered">${esc(t("detail.filtered", { filters: filterText() }))}</div></div>
        <button type="button" class="ghost small csv" data-export="detail">CSV</button>
      </header>
      ${n.in_scope ? "" : `<p class="hint">${esc(t("detail.outOfScope"))}</p>`}
      <div class="stats">
        ${stat(t("detail.credit"), money(n.credit))}
        ${stat(t("detail.own"), money(n.own))}
        ${stat(t("detail.assists"), money(n.assists))}
        ${stat(t("detail.received"), money(n.received))}
        ${stat(t("detail.closed"), nf.format(n.deals_closed))}
        ${stat(t("detail.partners"), nf.format(n.partners))}
        ${stat(t("detail.ratio"), `${pct(n.assist_ratio)}<div class="ratio"><span style="width:${100 * n.assist_ratio}%"></span></div>`)}
        ${stat(t("detail.brokerage"), brokerage(drawn))}
        ${stat(t("detail.community"), community(drawn))}
      </div>
      <div class="section"><h3>${esc(t("detail.contributors"))}</h3>
        <p class="hint">${esc(t("detail.contributorsHint"))}</p>${people}</div>
      <div class="section"><h3>${esc(t("detail.inflows"))}</h3>${flowList(data.inflows, "in")}</div>
      <div class="section"><h3>${esc(t("detail.outflows"))}</h3>${flowList(data.outflows, "out")}</div>`;
    activate($$("#detail li.link"), (li) => select(li.dataset.store));
    $("#detail .csv").addEventListener("click", () => exportCsv("detail"));
  }

  /** Click and Enter/Space on each element run ``fn`` (rows and list items acting as buttons). */
  function activate(elements, fn) {
    for (const el of elements) {
      el.addEventListener("click", () => fn(el));
      el.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          fn(el);
        }
      });
    }
  }

  // --- search -----------------------------------------------------------------------------------
  function searchResults(query) {
    const q = query.trim().toLowerCase();
    if (!q || !state.directory) return [];
    const drawn = new Set(state.collab ? state.collab.nodes.map((n) => n.id) : []);
    const storeName = new Map(state.directory.stores.map((s) => [s.id, s.name || s.id]));
    const match = (...texts) => texts.some((x) => x && String(x).toLowerCase().includes(q));
    const out = [];
    const cities = new Map();
    for (const s of state.directory.stores) {
      if (!drawn.has(s.id)) continue;
      if (match(s.name, s.id)) out.push({ kind: "store", id: s.id, label: s.name || s.id, sub: `${brandName(s.brand)} · ${s.city}`, store: s.id });
      if (s.city && match(s.city)) cities.set(s.city, (cities.get(s.city) || 0) + 1);
    }
    for (const [city, n] of cities) out.unshift({ kind: "city", id: city, label: city, sub: t("search.city", { n }) });
    for (const p of state.directory.staff) {
      if (!p.store || !drawn.has(p.store)) continue;
      if (match(p.name, p.id)) out.push({ kind: "staff", id: p.id, label: p.name || p.id, sub: t("search.staff", { store: (storeName.get(p.store) || p.store).split(" · ")[0] }), store: p.store });
    }
    return out.slice(0, 10);
  }

  function renderSearch() {
    const input = $("#search");
    const list = $("#search-results");
    const results = searchResults(input.value);
    state.searchResults = results;
    state.searchActive = results.length ? 0 : -1;
    if (!input.value.trim()) {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      return;
    }
    list.innerHTML = results.length
      ? results
          .map(
            (r, i) => `<li role="option" id="sr-${i}" data-i="${i}" class="${r.kind}${i === 0 ? " active" : ""}" aria-selected="${i === 0}">
              <span class="label">${esc(r.label)}</span><span class="sub">${esc(r.kind === "store" ? `${t("search.store")} · ${r.sub}` : r.sub)}</span></li>`,
          )
          .join("")
      : `<li class="none" role="option" aria-disabled="true">${esc(t("search.none", { q: input.value.trim() }))}</li>`;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.setAttribute("aria-activedescendant", results.length ? "sr-0" : "");
    for (const li of list.querySelectorAll("li[data-i]")) {
      li.addEventListener("mousedown", (event) => {
        event.preventDefault(); // keep the focus in the box
        choose(results[Number(li.dataset.i)]);
      });
    }
  }

  function moveActive(step) {
    const results = state.searchResults || [];
    if (!results.length) return;
    state.searchActive = (state.searchActive + step + results.length) % results.length;
    for (const li of $$("#search-results li[data-i]")) {
      const on = Number(li.dataset.i) === state.searchActive;
      li.classList.toggle("active", on);
      li.setAttribute("aria-selected", String(on));
    }
    $("#search").setAttribute("aria-activedescendant", `sr-${state.searchActive}`);
  }

  function closeSearch() {
    $("#search-results").hidden = true;
    $("#search").setAttribute("aria-expanded", "false");
  }

  /** A store or staff member: select (their home) store and focus it; a city: light up its
   * stores and fit them in view. */
  function choose(result) {
    if (!result) return;
    closeSearch();
    $("#search").value = result.label;
    const cy = app.cy;
    if (result.kind === "city") {
      const hits = cy.nodes().filter((n) => n.data("node").city === result.id);
      clearSelection();
      writeUrl();
      cy.batch(() => {
        cy.elements().addClass("faded");
        hits.removeClass("faded").addClass("hit");
        hits.edgesWith(hits).removeClass("faded").addClass("lit");
      });
      cy.stop();
      cy.animate({ fit: { eles: hits, padding: 60 } }, { duration: 300 });
      $("#graph").dataset.hits = String(hits.length);
      refreshTrend();
      return;
    }
    if (result.kind === "staff") showProfile(result.id);
    select(result.store).then(() => {
      const node = cy.getElementById(result.store);
      node.addClass("hit");
      $("#graph").dataset.hits = "1";
    });
  }

  // --- flows ------------------------------------------------------------------------------------
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
      container.innerHTML = `<p class="muted">${esc(t("flows.none"))}</p>`;
      return;
    }
    const [m, hidden] = crossingOnly(full);
    const n = m.labels.length;
    const label = levelLabel(m.level);
    let maxOff = 1;
    m.amounts.forEach((row, i) => row.forEach((v, j) => i !== j && (maxOff = Math.max(maxOff, v))));
    const maxAll = Math.max(1, ...m.amounts.flat());
    const dense = n > 5;
    const cellTitle = (v, i, j) => t("flows.cell", { a: label(m.labels[i]), m: moneyFull(v), deals: nf.format(m.deals[i][j]), b: label(m.labels[j]) });
    const cell = (v, i, j) => {
      const title = cellTitle(v, i, j);
      if (i === j) {
        const x = Math.sqrt(v / maxAll);
        return `<td class="diag" style="background:rgba(148,163,184,${0.08 + 0.3 * x})" title="${esc(title)}">${v ? money(v) : "·"}</td>`;
      }
      if (!v) return `<td class="zero" title="${esc(title)}">·</td>`;
      const x = Math.sqrt(v / maxOff);
      return `<td style="background:${heat(x)};color:${x > 0.55 ? "#fff" : "#0f172a"}" title="${esc(title)}">${money(v)}</td>`;
    };
    const head = m.labels.map((l) => `<th scope="col" title="${esc(label(l))}">${esc(label(l))}</th>`).join("");
    const body = m.amounts
      .map((row, i) => {
        const across = row.reduce((a, v, j) => a + (i === j ? 0 : v), 0);
        return `<tr><th scope="row">${esc(label(m.labels[i]))}</th>${row.map((v, j) => cell(v, i, j)).join("")}<td class="total" title="${esc(t("flows.acrossTitle"))}">${money(across)}</td></tr>`;
      })
      .join("");
    const pairs = [];
    m.amounts.forEach((row, i) => row.forEach((v, j) => i !== j && v > 0 && pairs.push({ i, j, v, deals: m.deals[i][j] })));
    pairs.sort((a, b) => b.v - a.v);
    const top = bars(pairs.slice(0, 8), {
      empty: t("flows.noneCross"),
      amount: (p) => p.v,
      title: (p) => cellTitle(p.v, p.i, p.j),
      label: (p) =>
        `<b>${esc(label(m.labels[p.i]))}</b> → <b>${esc(label(m.labels[p.j]))}</b> <span class="muted">· ${esc((p.deals === 1 ? t("flows.deal") : t("flows.deals", { n: nf.format(p.deals) })))}</span>`,
      fill: (p, max) => `<span style="width:${(100 * p.v) / max}%;background:${CROSS}"></span>`,
    });
    const note = hidden ? t("flows.hidden", { n: hidden, levels: t("levels." + m.level) }) : "";
    container.innerHTML = `<div class="flows-body${dense ? " stacked" : ""}">
      <div class="matrix-wrap" tabindex="0"><table class="matrix${dense ? " dense" : ""}" data-level="${m.level}">
      <thead><tr><th class="corner">${esc(t("flows.corner"))}</th>${head}<th class="total" scope="col">${esc(t("flows.across"))}</th></tr></thead>
      <tbody>${body}</tbody></table></div>
      <div class="scale"><span>${esc(t("flows.scale"))}</span><span class="ramp"></span><span>${money(maxOff)}</span></div>
      <div class="pairs"><h3>${esc(t("flows.largest"))}</h3>
      <p class="hint">${esc(t("flows.summary", { m: money(m.between), total: money(m.total), pct: pct(share(m.between, m.total)), level: t("level." + m.level) }))}${esc(note)}</p>${top}</div>
      </div>`;
  }

  function heat(x) {
    // white-orange ramp: #fff7ed -> #fdba74 -> #ea580c -> #7c2d12
    const stops = [
      [255, 247, 237],
      [253, 186, 116],
      [234, 88, 12],
      [124, 45, 18],
    ];
    const y = Math.min(0.999, Math.max(0, x)) * (stops.length - 1);
    const i = Math.floor(y);
    const f = y - i;
    const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
    return `rgb(${c.join(",")})`;
  }

  // --- farmers ----------------------------------------------------------------------------------
  function renderFarmers(data) {
    const table = $("#farmers");
    if (!data.farmers.length) {
      table.innerHTML = `<tbody><tr><td class="muted">${esc(t("farmers.none"))}</td></tr></tbody>`;
      return;
    }
    const rows = data.farmers
      .map((f, i) => {
        const inGraph = f.store && app.cy.getElementById(f.store).nonempty();
        const title = t("farmers.rowTitle", { closers: nf.format(f.closers_helped), stores: moneyFull(f.other_stores), brands: moneyFull(f.other_brands) });
        return `<tr${inGraph ? ` class="link" data-store="${esc(f.store)}" tabindex="0"` : ""} data-staff="${esc(f.staff)}" title="${esc(title)}">
          <td class="rank">${nf.format(i + 1)}</td>
          <td><div class="who">${esc(f.name || f.staff)}</div><div class="sub">${dot(f.brand)}${esc((f.store_name || f.store || "").split(" · ")[0])}</div></td>
          <td class="num">${nf.format(f.farmed_deals)}</td>
          <td class="num">${pct(f.farmed_share)}<span class="ratio"><span style="width:${100 * f.farmed_share}%"></span></span></td>
          <td class="num">${money(f.farmed)}</td>
          <td class="num">${f.other_brands ? money(f.other_brands) : "–"}</td></tr>`;
      })
      .join("");
    table.innerHTML = `<thead><tr><th></th><th>${esc(t("farmers.who"))}</th>
      <th class="num" title="${esc(t("farmers.farmedTitle"))}">${esc(t("farmers.farmed"))}</th>
      <th class="num" title="${esc(t("farmers.shareTitle"))}">${esc(t("farmers.share"))}</th>
      <th class="num">${esc(t("farmers.credit"))}</th><th class="num">${esc(t("farmers.crossBrand"))}</th></tr></thead><tbody>${rows}</tbody>`;
    activate(table.querySelectorAll("tr.link"), (tr) => {
      select(tr.dataset.store);
      showProfile(tr.dataset.staff);
    });
  }

  // --- advisor profiles and the leaderboard -----------------------------------------------------
  const MONEY_FIGURES = new Set(["credit", "assists_given", "assists_received"]);
  const PROFILE_FIGURES = [
    ["touches", "profile.touches"],
    ["customers", "profile.customers"],
    ["conversion", "profile.conversion"],
    ["credit", "profile.credit"],
    ["assists_given", "profile.given"],
    ["assists_received", "profile.received"],
  ];

  /** A profile's or a leaderboard's figure: money compact, conversion in %, counts (averages
   * with one decimal). */
  function figure(name, value) {
    if (value === null || value === undefined) return "–";
    if (MONEY_FIGURES.has(name)) return money(value);
    if (name === "conversion") return pct(value);
    return new Intl.NumberFormat(state.lang, { maximumFractionDigits: 1 }).format(value);
  }

  function storeLabel(id) {
    const found = state.directory && state.directory.stores.find((s) => s.id === id);
    return ((found && found.name) || id || "").split(" · ")[0];
  }

  async function showProfile(id) {
    if (!id) return;
    state.profileStaff = id;
    writeUrl();
    const seq = ++state.profileSeq;
    const card = $("#profile");
    card.dataset.loading = "true";
    const f = filterParams();
    try {
      const data = await api(`/v1/staff/${encodeURIComponent(id)}/profile`, { from: f.from, to: f.to });
      if (seq !== state.profileSeq) return;
      state.data.profile = data;
      renderProfile(data);
      card.dataset.staff = id;
      delete card.dataset.loading;
    } catch (error) {
      if (seq !== state.profileSeq) return;
      delete card.dataset.loading;
      if (error.status === 404 || error.status === 403) {
        state.profileStaff = null;
        state.data.profile = null;
        delete card.dataset.staff;
        $("#profile-body").innerHTML = `<p class="muted">${esc(t("profile.empty"))}</p>`;
        writeUrl();
      } else handle(error);
    }
  }

  // The profile's markup, shared by the leaders' profile card and a staff member's own view.
  function profileHtml(p, storeText = storeLabel(p.store)) {
    const cell = (name, b) => `<td class="num"><div class="value">${esc(figure(name, b.value))}</div>
      <div class="sub">${esc(t("profile.avg", { v: figure(name, b.average) }))}</div>
      <div class="sub">${esc(t("profile.top", { v: figure(name, b.top_decile) }))}</div></td>`;
    const row = (s, label, cls) => `<tr class="${cls}" data-stage="${esc(s.stage)}"><th scope="row">${esc(label)}</th>${PROFILE_FIGURES.map(([name]) => cell(name, s[name])).join("")}</tr>`;
    const stages = p.stages.map((s) => row(s, stageName(s.stage), "stage")).join("");
    const stat = (label, name, b) => `<div class="stat"><div class="label">${esc(label)}</div><div class="value">${esc(figure(name, b.value))}</div>
      <div class="sub">${esc(t("profile.avg", { v: figure(name, b.average) }))} · ${esc(t("profile.top", { v: figure(name, b.top_decile) }))}</div></div>`;
    return `
      <p class="where">${esc(t("profile.head", { name: p.name || p.staff, store: storeText, region: regionName(p.region) || "–", n: nf.format(p.peers) }))} · <code>${esc(p.staff)}</code></p>
      <div class="stats">
        ${stat(t("profile.credit"), "credit", p.total.credit)}
        ${stat(t("profile.points"), "points", p.points)}
        ${stat(t("profile.activity"), "activity", p.activities)}
      </div>
      <p class="hint">${esc(t("profile.hint"))}</p>
      <div class="table-wrap auto"><table class="table profile-table">
        <thead><tr><th>${esc(t("profile.stage"))}</th>${PROFILE_FIGURES.map(([, key]) => `<th class="num">${esc(t(key))}</th>`).join("")}</tr></thead>
        <tbody>${stages}${row(p.total, t("profile.total"), "total")}</tbody></table></div>`;
  }

  function renderProfile(p) {
    $("#profile-body").innerHTML = profileHtml(p);
  }

  async function loadLeaders() {
    const seq = ++state.leadersSeq;
    const metric = $("#leaders-metric").value;
    try {
      const data = await api("/v1/leaderboards", { metric, ...filterParams(), limit: 10 });
      if (seq !== state.leadersSeq) return;
      state.data.leaders = data;
      renderLeaders(data);
    } catch (error) {
      if (seq === state.leadersSeq) handle(error);
    }
  }

  function renderLeaders(data) {
    const table = $("#leaders");
    table.dataset.metric = data.metric;
    if (!data.rows.length) {
      table.innerHTML = `<tbody><tr><td class="muted">${esc(t("leaders.none"))}</td></tr></tbody>`;
      return;
    }
    const rows = data.rows
      .map(
        (r) => `<tr class="link" data-staff="${esc(r.staff)}" tabindex="0">
          <td class="rank">${nf.format(r.rank)}</td>
          <td><div class="who">${esc(r.name || r.staff)}</div><div class="sub">${esc(storeLabel(r.store))} · ${esc(regionName(r.region))}</div></td>
          <td class="num">${esc(figure(data.metric, r.value))}</td></tr>`,
      )
      .join("");
    table.innerHTML = `<thead><tr><th></th><th>${esc(t("leaders.who"))}</th><th class="num">${esc(t("leaders." + data.metric))}</th></tr></thead><tbody>${rows}</tbody>`;
    activate(table.querySelectorAll("tr.link"), (tr) => showProfile(tr.dataset.staff));
  }

  // --- the trend --------------------------------------------------------------------------------
  function renderTrend(trend) {
    const el = $("#trend");
    const months = trend.months;
    const storeName = trend.store ? ((state.collab && state.collab.nodes.find((n) => n.id === trend.store)) || {}).name || trend.store : null;
    $("#trend-scope").textContent = trend.store ? t("trend.store", { store: String(storeName).split(" · ")[0] }) : t("trend.network");
    if (!months.length) {
      el.innerHTML = `<p class="muted">${esc(t("trend.none"))}</p>`;
      return;
    }
    const own = new Map((trend.store_months || []).map((m) => [m.month, m]));
    const W = 560;
    const H = 190;
    const left = 46;
    const right = 40;
    const top = 10;
    const bottom = 26;
    const w = (W - left - right) / months.length;
    const maxCredit = Math.max(1, ...months.map((m) => m.credit));
    const y = (v) => top + (H - top - bottom) * (1 - v / maxCredit);
    const yp = (r) => top + (H - top - bottom) * (1 - r);
    const barsSvg = months
      .map((m, i) => {
        const x = left + i * w + w * 0.18;
        const bw = w * 0.64;
        const s = own.get(m.month);
        const sTitle = s ? ` · ${storeName}: ${moneyFull(s.credit)}` : "";
        return `<rect class="bar" x="${x}" y="${y(m.credit)}" width="${bw}" height="${H - bottom - y(m.credit)}"><title>${esc(month(m.month))}: ${esc(moneyFull(m.credit))}${esc(sTitle)}</title></rect>` +
          (s ? `<rect class="bar own" x="${x + bw * 0.2}" y="${y(s.credit)}" width="${bw * 0.6}" height="${H - bottom - y(s.credit)}"></rect>` : "") +
          (months.length <= 12 || i % Math.ceil(months.length / 12) === 0
            ? `<text class="axis" x="${x + bw / 2}" y="${H - 8}" text-anchor="middle">${esc(month(m.month))}</text>`
            : "");
      })
      .join("");
    const series = [
      ["cross_store", "#7c3aed", t("trend.crossStore")],
      ["cross_brand", CROSS, t("trend.crossBrand")],
      ["cross_city", "#0891b2", t("trend.crossCity")],
    ];
    const source = trend.store ? months.map((m) => own.get(m.month) || { ...m, credit: 0, cross_store: 0, cross_brand: 0, cross_city: 0 }) : months;
    const lines = series
      .map(([key, colour]) => {
        const pts = source.map((m, i) => `${left + i * w + w / 2},${yp(share(m[key], m.credit))}`).join(" ");
        return `<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2"></polyline>` +
          source.map((m, i) => `<circle cx="${left + i * w + w / 2}" cy="${yp(share(m[key], m.credit))}" r="2.5" fill="${colour}"><title>${esc(month(m.month))}: ${esc(pct(share(m[key], m.credit)))}</title></circle>`).join("");
      })
      .join("");
    const axis = `<text class="axis" x="${left - 6}" y="${top + 8}" text-anchor="end">${esc(money(maxCredit))}</text>
      <text class="axis" x="${left - 6}" y="${H - bottom}" text-anchor="end">0</text>
      <text class="axis" x="${W - right + 6}" y="${top + 8}">100%</text>
      <text class="axis" x="${W - right + 6}" y="${H - bottom}">0%</text>
      <line x1="${left}" x2="${W - right}" y1="${H - bottom}" y2="${H - bottom}" stroke="#cbd5e1"></line>`;
    const legend = [`<span class="row"><span class="box"></span>${esc(t("trend.credit"))}</span>`]
      .concat(trend.store ? [`<span class="row"><span class="box own"></span>${esc(t("trend.storeCredit"))}</span>`] : [])
      .concat(series.map(([, colour, name]) => `<span class="row"><span class="line" style="border-color:${colour}"></span>${esc(name)}</span>`))
      .join("");
    el.innerHTML = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t("trend.title"))}">${axis}${barsSvg}${lines}</svg><div class="trend-legend">${legend}</div>`;
  }

  // --- export -----------------------------------------------------------------------------------
  function csvText(rows) {
    const cell = (v) => {
      const s = v === null || v === undefined ? "" : String(v);
      return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    return "\ufeff" + rows.map((r) => r.map(cell).join(",")).join("\r\n") + "\r\n";
  }

  function download(name, blob) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1000);
  }

  function fileStem(what) {
    const f = filterParams();
    return ["contribnet", what, f.from, f.to, f.region, f.brand].filter(Boolean).join("-");
  }

  const yuan = (fen) => (fen / 100).toFixed(2);

  /** Each table the page shows as CSV: raw ids, amounts in fen and in yuan, UTF-8 with a BOM. */
  function exportRows(what) {
    if (what === "flows-brand" || what === "flows") {
      const m = state.data[what];
      if (!m) return null;
      const rows = [["level", "earned_by", "closed_by", "amount_fen", "amount_yuan", "deals"]];
      m.labels.forEach((a, i) => m.labels.forEach((b, j) => rows.push([m.level, a, b, m.amounts[i][j], yuan(m.amounts[i][j]), m.deals[i][j]])));
      return [`flows-${m.level}`, rows];
    }
    if (what === "farmers") {
      const d = state.data.farmers;
      if (!d) return null;
      const rows = [["rank", "staff", "name", "store", "store_name", "brand", "early_deals", "farmed_deals", "farmed_share", "farmed_fen", "farmed_yuan", "credit_fen", "assists_fen", "other_brands_fen"]];
      d.farmers.forEach((f, i) => rows.push([i + 1, f.staff, f.name, f.store, f.store_name, f.brand, f.early_deals, f.farmed_deals, f.farmed_share.toFixed(3), f.farmed, yuan(f.farmed), f.credit, f.assists, f.other_brands]));
      return ["farmers", rows];
    }
    if (what === "trend") {
      const d = state.data.trend;
      if (!d) return null;
      const rows = [["scope", "month", "deals", "contributors", "credit_fen", "cross_store_fen", "cross_brand_fen", "cross_city_fen"]];
      for (const m of d.months) rows.push(["network", m.month, m.deals, m.contributors, m.credit, m.cross_store, m.cross_brand, m.cross_city]);
      for (const m of d.store_months || []) rows.push([d.store, m.month, m.deals, m.contributors, m.credit, m.cross_store, m.cross_brand, m.cross_city]);
      return ["trend", rows];
    }
    if (what === "detail") {
      const d = state.data.detail;
      if (!d) return null;
      const rows = [["section", "id", "name", "brand", "amount_fen", "amount_yuan", "own_fen", "assists_fen", "deals"]];
      for (const s of d.contributors) rows.push(["contributor", s.staff, s.name, s.brand, s.credit, yuan(s.credit), s.own, s.assists, s.deals_credited]);
      for (const f of d.inflows) rows.push(["inflow", f.store, f.name, f.brand, f.amount, yuan(f.amount), "", "", f.deals]);
      for (const f of d.outflows) rows.push(["outflow", f.store, f.name, f.brand, f.amount, yuan(f.amount), "", "", f.deals]);
      return [`store-${d.store.id}`, rows];
    }
    if (what === "profile") {
      const p = state.data.profile;
      if (!p) return null;
      const rows = [["staff", "stage", "figure", "value", "region_average", "top_decile"]];
      for (const s of [...p.stages, p.total]) {
        for (const [name] of [...PROFILE_FIGURES, ["deals"], ["converted"]]) rows.push([p.staff, s.stage, name, s[name].value, s[name].average, s[name].top_decile]);
      }
      rows.push([p.staff, "total", "points", p.points.value, p.points.average, p.points.top_decile]);
      rows.push([p.staff, "total", "activity", p.activities.value, p.activities.average, p.activities.top_decile]);
      return [`profile-${p.staff}`, rows];
    }
    if (what === "leaders") {
      const d = state.data.leaders;
      if (!d) return null;
      const rows = [["rank", "staff", "name", "store", "region", "metric", "value"]];
      for (const r of d.rows) rows.push([r.rank, r.staff, r.name, r.store, r.region, d.metric, r.value]);
      return [`leaderboard-${d.metric}`, rows];
    }
    if (what === "staff") {
      const v = state.data.staffView;
      if (!v) return null;
      const rows = [["kind", "deal", "closed_at", "deal_store", "closer", "amount_fen", "amount_yuan", "share", "stage", "at", "reason"]];
      for (const l of v.lines) rows.push(["credited", l.deal, l.closed_at, l.deal_store, l.closer, l.amount, yuan(l.amount), l.share.toFixed(4), "", "", l.explanation]);
      for (const x of v.not_counted) rows.push(["not_counted", x.deal, "", "", "", 0, "0.00", "", x.stage, x.at, x.reason]);
      return [`statement-${v.staff}`, rows];
    }
    return null;
  }

  function exportCsv(what) {
    const found = exportRows(what);
    if (!found) return;
    const [stem, rows] = found;
    download(`${fileStem(stem)}.csv`, new Blob([csvText(rows)], { type: "text/csv;charset=utf-8" }));
  }

  function exportPng() {
    if (!app.cy) return;
    const blob = app.cy.png({ output: "blob", full: true, scale: 2, bg: "#ffffff" });
    download(`${fileStem("graph")}.png`, blob);
  }

  // --- a staff member's own view ----------------------------------------------------------------
  async function loadStaffView() {
    const seq = ++state.seq;
    const f = filterParams();
    setNotice(null);
    try {
      const id = encodeURIComponent(state.staffId);
      // The profile is a companion: a staff member without one (no region, say) still sees their pay.
      const [view, profile] = await Promise.all([
        api(`/v1/staff/${id}/view`, { from: f.from, to: f.to }),
        api(`/v1/staff/${id}/profile`, { from: f.from, to: f.to }).catch((error) => {
          if (error.status === 404 || error.status === 403) return null;
          throw error;
        }),
      ]);
      if (seq !== state.seq) return;
      state.data.staffView = view;
      state.data.profile = profile;
      renderStaffView(view, profile);
      $("#staff-view").dataset.state = "ready";
      writeUrl();
    } catch (error) {
      if (seq === state.seq) handle(error);
    }
  }

  function touchText(x) {
    const f = x.factors || {};
    const w = f.stage_weight ?? f.contributor_value;
    const total = f.weight_total ?? f.value_total;
    const head = t("staff.touch", { stage: stageName(x.stage), at: day(x.at) });
    const num = new Intl.NumberFormat(state.lang, { maximumFractionDigits: 2 });
    const tail = w !== undefined && total
      ? t("staff.weight", { w: num.format(w), total: num.format(total), part: pct(x.credit) })
      : t("staff.part", { part: pct(x.credit) });
    return `${head}: ${tail}`;
  }

  function renderStaffView(v, profile) {
    const el = $("#staff-view");
    const maxMonth = Math.max(1, ...v.months.map((m) => m.amount));
    const assists = v.months.reduce((a, m) => a + m.assists, 0);
    const f = filterParams();
    // a staff key reads no store directory: name their store from their own deals where one is there
    const seen = v.lines.find((l) => l.deal_store === (profile && profile.store));
    const ownStore = ((seen && seen.deal_store_name) || (profile && profile.store) || "").split(" · ")[0];
    const months = v.months.length
      ? `<ul class="bars">${v.months
          .map((m) => `<li><span class="name">${esc(month(m.month))} · ${esc((m.deals === 1 ? t("flows.deal") : t("flows.deals", { n: nf.format(m.deals) })))}</span><span class="amount">${esc(moneyFull(m.amount))}</span>
            <span class="bar"><span class="own" style="width:${(100 * (m.amount - m.assists)) / maxMonth}%"></span><span class="assist" style="width:${(100 * m.assists) / maxMonth}%"></span></span></li>`)
          .join("")}</ul>`
      : `<p class="muted">${esc(t("staff.noLines"))}</p>`;
    const lines = v.lines
      .map(
        (l) => `<tr data-deal="${esc(l.deal)}">
          <td><code>${esc(l.deal)}</code><div class="sub">${esc((l.deal_store_name || l.deal_store).split(" · ")[0])}</div></td>
          <td class="nowrap">${esc(day(l.closed_at))}</td>
          <td>${esc(l.closed_by_me ? t("staff.me") : l.closer_name || l.closer)}</td>
          <td class="num">${esc(moneyFull(l.amount))}<div class="sub">${esc(pct(l.share))} · ${esc(t("staff.pool", { pool: moneyFull(l.pool) }))}</div></td>
          <td class="why"><ul>${l.touches.map((x) => `<li>${esc(touchText(x))}</li>`).join("")}</ul><div class="sub">${esc(l.explanation)}</div></td></tr>`,
      )
      .join("");
    const missed = v.not_counted
      .map(
        (x) => `<tr><td><code>${esc(x.deal)}</code></td><td>${esc(stageName(x.stage || x.source))}${x.at ? ` · ${esc(day(x.at))}` : ""}</td><td>${esc(x.reason)}</td></tr>`,
      )
      .join("");
    el.innerHTML = `
      <section class="kpis staff-kpis">
        <div class="kpi"><div class="label">${esc(t("staff.total"))}</div><div class="value">${esc(moneyFull(v.total))}</div><div class="sub">${esc(v.name || v.staff)} · <code>${esc(v.staff)}</code></div></div>
        <div class="kpi"><div class="label">${esc(t("staff.deals"))}</div><div class="value">${esc(nf.format(v.deals))}</div><div class="sub">${esc(t("staff.period", { from: f.from ? day(f.from + "T12:00:00+08:00") : "…", to: f.to ? day(f.to + "T12:00:00+08:00") : "…" }))}</div></div>
        <div class="kpi"><div class="label">${esc(t("staff.assists"))}</div><div class="value">${esc(moneyFull(assists))}</div><div class="sub">${esc(pct(share(assists, v.total)))}</div></div>
      </section>
      <div class="grid staff-grid">
        <section class="card"><div class="card-head"><h2>${esc(t("staff.lines"))}</h2><button type="button" class="ghost small csv" data-export="staff">CSV</button></div>
          <div class="table-wrap auto"><table class="table staff-lines">
          <thead><tr><th>${esc(t("staff.deal"))}</th><th>${esc(t("staff.closed"))}</th><th>${esc(t("staff.closedBy"))}</th><th class="num">${esc(t("staff.amount"))}</th><th>${esc(t("staff.why"))}</th></tr></thead>
          <tbody>${lines || `<tr><td colspan="5" class="muted">${esc(t("staff.noLines"))}</td></tr>`}</tbody></table></div></section>
        <div class="stack">
          <section class="card"><div class="card-head"><h2>${esc(t("staff.months"))}</h2></div>${months}</section>
          <section class="card"><div class="card-head"><h2>${esc(t("staff.notCounted"))}</h2></div>
            ${missed ? `<div class="table-wrap auto"><table class="table not-counted"><thead><tr><th>${esc(t("staff.deal"))}</th><th>${esc(t("staff.item"))}</th><th>${esc(t("staff.reason"))}</th></tr></thead><tbody>${missed}</tbody></table></div>` : `<p class="muted">${esc(t("staff.notCountedNone"))}</p>`}
          </section>
        </div>
      </div>
      <div class="grid single"><section class="card" id="staff-profile"><div class="card-head"><h2>${esc(t("staff.profile"))}</h2></div>${profile ? profileHtml(profile, ownStore) : `<p class="muted">${esc(t("staff.noProfile"))}</p>`}</section></div>`;
    el.querySelector(".csv").addEventListener("click", () => exportCsv("staff"));
  }

  async function enterMode() {
    const me = await api("/v1/me");
    state.me = me;
    const wanted = state.pending && state.pending.staff;
    if (me.role === "staff" || (wanted && (me.role === "leader" || me.role === "admin"))) {
      state.mode = "staff";
      state.staffId = me.role === "staff" ? me.staff : wanted;
      document.body.classList.add("staff-mode");
      $("#leader-view").hidden = true;
      $("#staff-view").hidden = false;
      const want = state.pending || {};
      state.pending = null;
      $("#f-from").value = want.from || "";
      $("#f-to").value = want.to || "";
      await loadStaffView();
    } else {
      state.mode = "leader";
      document.body.classList.remove("staff-mode");
      $("#leader-view").hidden = false;
      $("#staff-view").hidden = true;
      await refresh();
      if (state.mode === "leader" && !state.selected) refreshTrend();
    }
  }

  async function start() {
    try {
      await enterMode();
    } catch (error) {
      handle(error);
    }
  }

  // --- the key ----------------------------------------------------------------------------------
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

  // --- wiring -----------------------------------------------------------------------------------
  function filtersChanged() {
    writeUrl();
    if (state.mode === "staff") loadStaffView();
    else refresh().then(() => state.mode === "leader" && !state.selected && refreshTrend());
  }

  function init() {
    const want = readUrl();
    state.pending = want;
    state.lang = I18N.pick(want.lang || localStorage.getItem(LANG_KEY));
    if (want.flows === "region") state.flowLevel = "region";
    if (want.colour === "community") state.colourBy = "community";
    if (want.store) state.selected = want.store;
    if (want.profile) state.profileStaff = want.profile;
    applyLanguage();
    for (const b of $$("#flow-level button")) setOn(b, b.dataset.level === state.flowLevel);
    for (const b of $$("#colour-by button")) setOn(b, b.dataset.colour === state.colourBy);
    renderEmptyDetail();
    cytoscape.use(cytoscapeFcose);
    createGraph(false);
    $("#key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("#key-input").value.trim();
      if (!key) return;
      localStorage.setItem(KEY, key);
      $("#key-dialog").close();
      updateKeyButton();
      start();
    });
    $("#key-forget").addEventListener("click", () => {
      localStorage.removeItem(KEY);
      askKey("");
    });
    $("#key-button").addEventListener("click", () => askKey(""));
    $("#lang").addEventListener("change", () => {
      state.lang = $("#lang").value;
      localStorage.setItem(LANG_KEY, state.lang);
      rerender();
    });
    for (const id of ["#f-from", "#f-to", "#f-region", "#f-brand"]) {
      $(id).addEventListener("change", filtersChanged);
    }
    $("#f-reset").addEventListener("click", () => {
      $("#f-region").value = "";
      $("#f-brand").value = "";
      [$("#f-from").value, $("#f-to").value] = state.range || ["", ""];
      filtersChanged();
    });
    for (const button of $$("#flow-level button")) {
      button.addEventListener("click", () => {
        state.flowLevel = button.dataset.level;
        for (const b of $$("#flow-level button")) setOn(b, b === button);
        $("#flow-level-title").textContent = t("flows.between", { level: t(state.flowLevel === "city" ? "flows.cities" : "flows.regions") });
        writeUrl();
        refreshFlows();
      });
    }
    $("#leaders-metric").addEventListener("change", loadLeaders);
    $("#fit").addEventListener("click", fitAll);
    for (const button of $$("#colour-by button")) {
      button.addEventListener("click", () => {
        state.colourBy = button.dataset.colour;
        for (const b of $$("#colour-by button")) setOn(b, b === button);
        writeUrl();
        if (state.collab) recolour();
      });
    }
    $("#relayout").addEventListener("click", layout);
    $("#export-png").addEventListener("click", exportPng);
    for (const button of $$("button.csv[data-export]")) button.addEventListener("click", () => exportCsv(button.dataset.export));
    $("#graph").addEventListener("keydown", onGraphKey);
    const search = $("#search");
    search.addEventListener("input", renderSearch);
    search.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        moveActive(1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        moveActive(-1);
      } else if (event.key === "Enter") {
        event.preventDefault();
        if (!state.searchResults || !state.searchResults.length) renderSearch();
        choose((state.searchResults || [])[Math.max(0, state.searchActive)]);
      } else if (event.key === "Escape") {
        closeSearch();
      }
    });
    search.addEventListener("blur", () => setTimeout(closeSearch, 150));
    updateKeyButton();
    if (localStorage.getItem(KEY)) start();
    else {
      $("#graph").dataset.state = "waiting"; // for a key
      askKey("");
    }
  }

  function setOn(button, on) {
    button.classList.toggle("on", on);
    button.setAttribute("aria-pressed", String(on));
  }

  init();
})();
