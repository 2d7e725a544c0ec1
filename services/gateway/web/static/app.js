// 后勤管理平台 dashboard: plain JavaScript, no external scripts, so it works on a school
// intranet with no internet access.
(function () {
  "use strict";
  const KINDS = { kindergarten: "幼儿园", primary: "小学", middle: "初中", high: "高中", nine_year: "九年一贯制" };
  const ROLES = { bureau_admin: "教育局管理员", bureau_viewer: "教育局", principal: "校长", vice_principal: "副校长", logistics_director: "总务主任", department_head: "部门负责人",
    storekeeper: "保管员", accountant: "会计", teacher: "教师" };
  // Roles that read no reports start on the 报修 form.
  const READS_NO_REPORTS = ["teacher", "department_head"];
  const $ = (id) => document.getElementById(id);
  const yuan = (fen) => (Number(fen) / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const int = (n) => Number(n).toLocaleString("zh-CN");

  // The token arrives once in the URL fragment (#token=…) and is kept for the browser tab.
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    sessionStorage.setItem("houqin-token", hash.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  let token = sessionStorage.getItem("houqin-token");

  function claims(t) {
    try {
      const p = t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(decodeURIComponent(escape(atob(p))));
    } catch (e) { return null; }
  }

  function showError(msg) { const e = $("error"); e.textContent = msg; e.hidden = !msg; }

  async function api(path) {
    const res = await fetch(path, { headers: { Authorization: "Bearer " + token } });
    return reply(res, {});
  }

  // reply reads a JSON answer of the API. An error carries the service's message (Chinese
  // first) and one line per invalid field, named as the form names it (labels).
  async function reply(res, labels) {
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) { sessionStorage.removeItem("houqin-token"); login(); throw new Error("登录已失效 / signed out"); }
    if (!res.ok) {
      const e = body.error || {};
      const fields = (e.field_violations || []).map((f) => (labels[f.field] || f.field) + "：" + f.description);
      throw new Error([e.message || res.statusText, ...fields].join("；"));
    }
    return body;
  }

  // Commands go through the gateway's RPC route (POST /api/v1/rpc/{service}/{method}); the
  // services decide who may call what.
  async function command(method, body, labels) {
    const res = await fetch("/api/v1/rpc/" + method, { method: "POST", body: JSON.stringify(body),
      headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" } });
    return reply(res, labels);
  }

  // A request id is made once per form entry, so a double submit, or a retry after a lost
  // reply, is a repeat that the service answers with the first result.
  function newRequestId(prefix) {
    return prefix + "-" + [...crypto.getRandomValues(new Uint8Array(12))].map((x) => x.toString(16).padStart(2, "0")).join("");
  }

  // Every table remembers the API path it shows; its export buttons download the same path as
  // a file (?format=xlsx|csv), fetched with the token and saved from memory.
  const tablePath = {};
  async function download(path, format) {
    const url = path + (path.includes("?") ? "&" : "?") + "format=" + format;
    const res = await fetch(url, { headers: { Authorization: "Bearer " + token } });
    if (!res.ok) { const b = await res.json().catch(() => ({})); throw new Error((b.error && b.error.message) || res.statusText); }
    const cd = res.headers.get("Content-Disposition") || "";
    const m = /filename\*=UTF-8''([^;]+)/.exec(cd);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await res.blob());
    a.download = m ? decodeURIComponent(m[1]) : "export." + format;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
  document.querySelectorAll(".exports button").forEach((b) => b.addEventListener("click", () => {
    const path = tablePath[b.parentElement.dataset.table];
    if (path) download(path, b.dataset.format).catch((e) => showError(e.message));
  }));

  // Every page of the dashboard (the sections of main but the sign-in and the drill-down).
  const VIEWS = [...document.querySelectorAll("main > section")].map((s) => s.id).filter((id) => id !== "login" && id !== "events");
  function login() {
    ["district", "school", "repairs", "loans", "custody", "events"].forEach((s) => ($(s).hidden = true));
    [...VIEWS, "views"].forEach((s) => ($(s).hidden = true));
    $("login").hidden = false;
  }

  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = $("token-input").value.trim();
    sessionStorage.setItem("houqin-token", token);
    start();
  });

  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10); // 北京时间
  ["as-of", "school-as-of"].forEach((i) => { $(i).value = today; $(i).max = today; });
  let schools = [], sortKey = "name", asc = true, isBureau = false, ownSchool = "";

  function renderSchools() {
    const rows = schools.slice().sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      const c = typeof x === "string" && isNaN(Number(x)) ? x.localeCompare(y, "zh-CN") : Number(x) - Number(y);
      return asc ? c : -c;
    });
    const tb = document.querySelector("#schools tbody");
    tb.replaceChildren(...rows.map((s) => {
      const tr = document.createElement("tr");
      tr.dataset.school = s.school_id;
      [s.name, KINDS[s.kind] || s.kind, s.boarding ? "是" : "否", int(s.entries), int(s.quantity), yuan(s.value_fen)]
        .forEach((v, i) => { const td = document.createElement("td"); td.textContent = v; if (i >= 3) td.className = "num"; tr.appendChild(td); });
      tr.addEventListener("click", () => openSchool(s.school_id));
      return tr;
    }));
    document.querySelectorAll("#schools th").forEach((th) => {
      th.classList.toggle("sorted", th.dataset.sort === sortKey);
      th.classList.toggle("asc", th.dataset.sort === sortKey && asc);
    });
  }

  document.querySelectorAll("#schools th[data-sort]").forEach((th) =>
    th.addEventListener("click", () => {
      asc = sortKey === th.dataset.sort ? !asc : true;
      sortKey = th.dataset.sort;
      renderSchools();
    }));

  async function loadDistrict() {
    const path = "/api/v1/district/ledger?as_of=" + $("as-of").value;
    const d = await api(path);
    tablePath.schools = path;
    schools = d.schools;
    $("total-schools").textContent = int(schools.length);
    $("total-entries").textContent = int(d.entries);
    $("total-quantity").textContent = int(d.quantity);
    $("district-total").textContent = "¥" + yuan(d.value_fen);
    renderSchools();
    await loadDistrictGroups();
  }

  // 全区台帐分组: the district by school, category, status or school kind with net book value;
  // a group's row opens its schools, a school's row the events behind it.
  let districtDim = "school", districtKey = "";
  async function loadDistrictGroups() {
    const q = new URLSearchParams({ as_of: $("as-of").value });
    if (districtKey) q.set("key", districtKey);
    const path = "/api/v1/district/ledger/" + districtDim + "?" + q;
    const d = await api(path);
    tablePath["district-groups"] = path;
    $("district-depreciation").textContent = "¥" + yuan(d.accumulated_depreciation_fen);
    $("district-nbv").textContent = "¥" + yuan(d.net_book_value_fen);
    $("district-group-head").innerHTML = districtKey ? "学校 <small>School</small>" : DISTRICT_DIMS[districtDim];
    $("district-group-back").hidden = !districtKey;
    document.querySelectorAll("#district-dimensions button").forEach((b) => b.classList.toggle("active", b.dataset.dim === districtDim));
    const tb = document.querySelector("#district-groups tbody");
    tb.replaceChildren(...d.groups.map((g) => {
      const tr = document.createElement("tr");
      tr.dataset.key = g.key;
      tr.dataset.school = g.school_id;
      tr.className = "drill";
      tr.title = g.school_id ? "点击追溯到事件 / click for the events behind the row" : "点击查看各校 / click for the schools";
      const group = districtDim === "category" ? g.key + " " + g.name : g.name;
      [g.school_id ? g.school_name : group, int(g.entries), int(g.quantity), yuan(g.value_fen), yuan(g.accumulated_depreciation_fen), yuan(g.net_book_value_fen)]
        .forEach((v, i) => { const td = document.createElement("td"); td.textContent = v; if (i) td.className = "num"; tr.appendChild(td); });
      tr.addEventListener("click", () => (g.school_id
        ? openEvents(g.school_id, g.drill, g.school_name + (districtKey ? " · " + group : ""), "district")
        : (districtKey = g.key, loadDistrictGroups())).catch((e) => showError(e.message)));
      return tr;
    }));
  }
  document.querySelectorAll("#district-dimensions button").forEach((b) => b.addEventListener("click", () => {
    districtDim = b.dataset.dim;
    districtKey = "";
    loadDistrictGroups().catch((e) => showError(e.message));
  }));
  $("district-group-back").addEventListener("click", () => { districtKey = ""; loadDistrictGroups().catch((e) => showError(e.message)); });

  const DIMS = { category: "分类 <small>Category</small>", location: "存放地点 <small>Location</small>", department: "部门 <small>Department</small>",
    custodian: "保管人 <small>Custodian</small>", status: "状态 <small>Status</small>" };
  let dimension = "category";
  const DISTRICT_DIMS = { school: "学校 <small>School</small>", category: DIMS.category, status: DIMS.status, school_kind: "学段 <small>School kind</small>" };
  const asOfValue = () => (isBureau ? $("as-of") : $("school-as-of")).value;

  // Numbers outside a table row (cards, totals) that drill down: the drill of each from the
  // last load, opened on click (the view to come back to, a title).
  const numberDrills = {};
  function drillNumber(elId, view) {
    $(elId).addEventListener("click", (ev) => {
      const cell = ev.target.closest("[data-drill]");
      const n = numberDrills[cell && cell.dataset.drill ? elId + "/" + cell.dataset.drill : elId] || numberDrills[elId];
      if (n && n.drill) openEvents(n.school || $("school").dataset.id, n.drill, n.title, view).catch((e) => showError(e.message));
    });
  }
  // school: the school whose events these are (default: the school page's).
  const setDrill = (elId, drill, title, school) => { numberDrills[elId] = { drill, title, school }; };

  async function openSchool(id) {
    const path = "/api/v1/schools/" + encodeURIComponent(id) + "/ledger/" + dimension + "?as_of=" + asOfValue();
    const d = await api(path);
    tablePath["ledger-groups"] = path;
    $("school-title").textContent = d.school_name + " · 资产台帐（截至 " + d.as_of + "）";
    $("group-head").innerHTML = DIMS[dimension];
    document.querySelectorAll("#dimensions button").forEach((b) => b.classList.toggle("active", b.dataset.dim === dimension));
    const tb = document.querySelector("#ledger-groups tbody");
    tb.replaceChildren(...d.groups.map((g) => {
      const tr = document.createElement("tr");
      tr.dataset.key = g.key;
      tr.className = "drill";
      tr.title = "点击追溯到事件 / click for the events behind the row";
      const name = dimension === "category" ? g.key + " " + g.name : g.name;
      [name, int(g.entries), int(g.quantity), yuan(g.value_fen), yuan(g.accumulated_depreciation_fen), yuan(g.net_book_value_fen)]
        .forEach((v, i) => { const td = document.createElement("td"); td.textContent = v; if (i) td.className = "num"; tr.appendChild(td); });
      tr.addEventListener("click", () => openEvents(id, g.drill, d.school_name + " · " + g.name, "school").catch((e) => showError(e.message)));
      return tr;
    }));
    $("school-entries").textContent = int(d.entries);
    $("school-quantity").textContent = int(d.quantity);
    $("school-total").textContent = yuan(d.value_fen);
    $("school-depreciation").textContent = yuan(d.accumulated_depreciation_fen);
    $("school-nbv").textContent = yuan(d.net_book_value_fen);
    setDrill("school-totals", d.drill, d.school_name + " · 资产台帐合计");
    $("school").dataset.id = id;
    $("school").hidden = false;
    $("back").hidden = !isBureau;
    if (isBureau) $("district").hidden = true;
  }
  drillNumber("school-totals", "school");
  document.querySelectorAll("#dimensions button").forEach((b) => b.addEventListener("click", () => {
    dimension = b.dataset.dim;
    openSchool($("school").dataset.id).catch((e) => showError(e.message));
  }));

  // Repairs and damage of the open school, over a date window (default: the last 30 days).
  async function openRepairs() {
    const id = $("school").dataset.id;
    const q = new URLSearchParams({ from: $("repairs-from").value, to: $("repairs-to").value });
    const path = "/api/v1/schools/" + encodeURIComponent(id) + "/repairs?" + q;
    const d = await api(path);
    tablePath["repair-classes"] = path;
    $("repairs-opened").textContent = int(d.opened);
    $("repairs-closed").textContent = int(d.closed);
    $("repairs-share").textContent = Number(d.closed_with_clock) ? (d.share_within_target * 100).toFixed(1) + "%" : "–";
    $("repairs-open").textContent = int(d.open_at_end);
    $("repairs-breaches").textContent = int(d.breaches);
    [["card-opened", d.opened_drill, "报修"], ["card-closed", d.closed_drill, "修复"], ["card-within", d.within_target_drill, "时限内修复"],
      ["card-open", d.open_at_end_drill, "期末未修"], ["card-breaches", d.breaches_drill, "超时"]].forEach(([c, dr, t]) => setDrill(c, dr, t));
    const tb = document.querySelector("#repair-classes tbody");
    tb.replaceChildren(...d.classes.map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.key = c.class_name;
      tr.className = "drill";
      [c.class_name, int(c.repairs), int(c.damage_charges), yuan(c.damage_fen)]
        .forEach((v, i) => { const td = document.createElement("td"); td.textContent = v; if (i) td.className = "num"; tr.appendChild(td); });
      tr.addEventListener("click", () => openEvents(id, c.drill, c.class_name + " · 维修与损坏", "repairs").catch((e) => showError(e.message)));
      return tr;
    }));
    ["district", "school", "events"].forEach((s) => ($(s).hidden = true));
    $("repairs").hidden = false;
  }
  $("repairs-to").value = today;
  $("repairs-from").value = new Date(Date.parse(today) - 30 * 86400000).toISOString().slice(0, 10);
  $("open-repairs").addEventListener("click", () => openRepairs().catch((e) => showError(e.message)));
  ["repairs-from", "repairs-to"].forEach((i) => $(i).addEventListener("change", () => openRepairs().catch((e) => showError(e.message))));
  $("repairs-back").addEventListener("click", () => { $("repairs").hidden = true; $("school").hidden = false; });
  ["card-opened", "card-closed", "card-within", "card-open", "card-breaches"].forEach((c) => drillNumber(c, "repairs"));

  // Loans open at the end of the as-of date, the longest overdue first.
  async function openLoans() {
    const id = $("school").dataset.id;
    const path = "/api/v1/schools/" + encodeURIComponent(id) + "/loans?as_of=" + asOfValue();
    const d = await api(path);
    tablePath["loan-list"] = path;
    $("loans-title").textContent = "借出未还（截至 " + d.as_of + "）";
    $("loans-open").textContent = int(d.open);
    $("loans-overdue").textContent = int(d.overdue);
    setDrill("card-loans-open", d.open_drill, "借出未还");
    setDrill("card-loans-overdue", d.overdue_drill, "逾期");
    const tb = document.querySelector("#loan-list tbody");
    tb.replaceChildren(...d.loans.map((l) => {
      const tr = document.createElement("tr");
      tr.dataset.key = l.tag;
      tr.className = "drill" + (Number(l.days_overdue) > 0 ? " overdue" : "");
      [l.tag, l.name, l.borrower, l.lent_on, l.due_on, l.off_campus ? "是" : "否", int(l.days_overdue)]
        .forEach((v, i) => { const td = document.createElement("td"); td.textContent = v; if (i === 6) td.className = "num"; tr.appendChild(td); });
      tr.addEventListener("click", () => openEvents(id, l.drill, l.tag + " " + l.name, "loans").catch((e) => showError(e.message)));
      return tr;
    }));
    ["district", "school", "repairs", "events"].forEach((s) => ($(s).hidden = true));
    $("loans").hidden = false;
  }
  ["card-loans-open", "card-loans-overdue"].forEach((c) => drillNumber(c, "loans"));
  $("open-loans").addEventListener("click", () => openLoans().catch((e) => showError(e.message)));
  $("loans-back").addEventListener("click", () => { $("loans").hidden = true; $("school").hidden = false; });

  // Write-offs of the open school requested in a date window, per approval tier (default: the last 30 days).
  async function openWriteOffs() {
    const id = $("school").dataset.id;
    const q = new URLSearchParams({ from: $("writeoffs-from").value, to: $("writeoffs-to").value });
    const path = "/api/v1/schools/" + encodeURIComponent(id) + "/writeoffs?" + q;
    const d = await api(path);
    tablePath["writeoff-tiers"] = path;
    const tb = document.querySelector("#writeoff-tiers tbody");
    tb.replaceChildren(...(d.tiers || []).map((t) => {
      const tr = document.createElement("tr");
      tr.dataset.key = t.tier;
      tr.className = "drill";
      // The written off, rejected and pending cells drill to those requests, the rest of the row to all of them.
      const cells = [[t.tier, t.drill], [int(t.requests), t.drill], [int(t.written_off), t.written_off_drill, "已报废"],
        [int(t.rejected), t.rejected_drill, "驳回"], [int(t.pending), t.pending_drill, "审批中"], [yuan(t.value_fen), t.drill], [yuan(t.residual_value_fen), t.drill]];
      cells.forEach(([v, dr, what], i) => {
        const td = document.createElement("td"); td.textContent = v; if (i) td.className = "num"; tr.appendChild(td);
        td.addEventListener("click", () => openEvents(id, dr, t.tier + " · 报废" + (what ? " · " + what : ""), "writeoffs").catch((e) => showError(e.message)));
      });
      return tr;
    }));
    $("writeoffs-requests").textContent = int(d.requests);
    $("writeoffs-written-off").textContent = int(d.written_off);
    $("writeoffs-rejected").textContent = int(d.rejected);
    $("writeoffs-pending").textContent = int(d.pending);
    $("writeoffs-value").textContent = yuan(d.value_fen);
    $("writeoffs-residual").textContent = yuan(d.residual_value_fen);
    setDrill("writeoffs-totals", d.drill, "报废合计");
    setDrill("writeoffs-totals/written_off", d.written_off_drill, "报废合计 · 已报废");
    setDrill("writeoffs-totals/rejected", d.rejected_drill, "报废合计 · 驳回");
    setDrill("writeoffs-totals/pending", d.pending_drill, "报废合计 · 审批中");
    [...VIEWS, "events"].forEach((s) => ($(s).hidden = true));
    $("writeoffs").hidden = false;
  }
  $("writeoffs-to").value = today;
  $("writeoffs-from").value = new Date(Date.parse(today) - 30 * 86400000).toISOString().slice(0, 10);
  drillNumber("writeoffs-totals", "writeoffs");
  drillNumber("budget-totals", "school-procurement"); // the 采购与预算 budget table's totals
  $("open-writeoffs").addEventListener("click", () => openWriteOffs().catch((e) => showError(e.message)));
  ["writeoffs-from", "writeoffs-to"].forEach((i) => $(i).addEventListener("change", () => openWriteOffs().catch((e) => showError(e.message))));
  $("writeoffs-back").addEventListener("click", () => { $("writeoffs").hidden = true; $("school").hidden = false; });

  // Custody coverage of a term (学年学期: autumn term from September, spring term from February).
  const y = Number(today.slice(0, 4)), mo = Number(today.slice(5, 7));
  $("custody-term").value = mo >= 9 ? y + "-" + (y + 1) + "-1" : mo >= 2 ? (y - 1) + "-" + y + "-2" : (y - 1) + "-" + y + "-1";
  async function openCustody() {
    const id = $("school").dataset.id;
    const path = "/api/v1/schools/" + encodeURIComponent(id) + "/custody?term=" + encodeURIComponent($("custody-term").value);
    const d = await api(path);
    tablePath["custody-rooms"] = path;
    $("custody-signed").textContent = int(d.signed_rooms);
    $("custody-all").textContent = int(d.all_rooms);
    setDrill("card-custody-signed", d.signed_drill, "已签保管责任书");
    setDrill("card-custody-all", d.all_rooms_drill, "全部房间");
    $("custody-coverage").textContent = Number(d.all_rooms) ? (d.coverage * 100).toFixed(1) + "%" : "–";
    const tb = document.querySelector("#custody-rooms tbody");
    tb.replaceChildren(...d.rooms.map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.key = r.room;
      if (r.drill) tr.className = "drill";
      if (!r.signed) tr.classList.add("overdue");
      [r.name || r.room, r.building, r.head, r.signed_on, r.signed ? "是" : "否"]
        .forEach((v) => { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); });
      if (r.drill) tr.addEventListener("click", () => openEvents(id, r.drill, (r.name || r.room) + " · 保管责任书", "custody").catch((e) => showError(e.message)));
      return tr;
    }));
    ["district", "school", "repairs", "loans", "events"].forEach((s) => ($(s).hidden = true));
    $("custody").hidden = false;
  }
  ["card-custody-signed", "card-custody-all"].forEach((c) => drillNumber(c, "custody"));
  $("open-custody").addEventListener("click", () => openCustody().catch((e) => showError(e.message)));
  $("custody-term").addEventListener("change", () => openCustody().catch((e) => showError(e.message)));
  $("custody-back").addEventListener("click", () => { $("custody").hidden = true; $("school").hidden = false; });

  // Stocktake variance (盘点差异): each session's totals, then its rooms.
  async function openStocktakes() {
    const id = $("school").dataset.id;
    const path = "/api/v1/schools/" + encodeURIComponent(id) + "/stocktakes/variance";
    const d = await api(path);
    tablePath["stocktake-list"] = path;
    const row = (v, label, session) => {
      const tr = document.createElement("tr");
      tr.dataset.key = v.session_id + "/" + v.room;
      tr.className = "drill" + (session ? " session" : "");
      [label, session ? (v.closed_at ? v.closed_at.replace("T", " ").slice(0, 16) : "进行中 / open") : "",
        int(v.expected), int(v.counted), int(v.missing), int(v.wrong_room), int(v.duplicates), int(v.unknown),
        int(v.surplus_adjusted), yuan(v.surplus_adjusted_fen), int(v.shortage_adjusted), yuan(v.shortage_adjusted_fen)]
        .forEach((x, i) => { const td = document.createElement("td"); td.textContent = x; if (i >= 2) td.className = "num"; tr.appendChild(td); });
      tr.addEventListener("click", () => openEvents(id, v.drill, "清查 " + v.session_id + (v.room ? " · " + v.room : ""), "stocktakes").catch((e) => showError(e.message)));
      return tr;
    };
    const rooms = d.rooms || [];
    document.querySelector("#stocktake-list tbody").replaceChildren(...(d.sessions || []).flatMap((s) =>
      [row(s, s.session_id + "（" + s.started_at.slice(0, 10) + "）", true),
        ...rooms.filter((r) => r.session_id === s.session_id).map((r) => row(r, "　" + r.room, false))]));
    ["district", "school", "repairs", "loans", "custody", "events"].forEach((s) => ($(s).hidden = true));
    $("stocktakes").hidden = false;
  }
  $("open-stocktakes").addEventListener("click", () => openStocktakes().catch((e) => showError(e.message)));
  $("stocktakes-back").addEventListener("click", () => { $("stocktakes").hidden = true; $("school").hidden = false; });

  // Drill-down: the events behind a row, page by page.
  let drillFrom = null, drillSchool = "", drillSpec = null, drillToken = "";
  function drillQuery(spec) {
    const q = new URLSearchParams();
    ["report", "key", "from", "to"].forEach((k) => { if (spec[k]) q.set(k, spec[k]); });
    return q;
  }
  async function loadEvents(more) {
    const q = drillQuery(drillSpec);
    const path = "/api/v1/schools/" + encodeURIComponent(drillSchool) + "/events?" + q;
    tablePath["event-list"] = path;
    if (more) q.set("page_token", drillToken);
    const d = await api("/api/v1/schools/" + encodeURIComponent(drillSchool) + "/events?" + q);
    const tb = document.querySelector("#event-list tbody");
    const rows = d.events.map((e) => {
      const tr = document.createElement("tr");
      tr.dataset.event = e.event_id;
      [e.occurred_at.slice(0, 10), e.type_name + " " + e.type, e.stream_id, int(e.version), e.recorded_at.replace("T", " ").slice(0, 19), e.actor, e.payload_json]
        .forEach((v, i) => { const td = document.createElement("td"); td.textContent = v; if (i === 3) td.className = "num"; if (i === 6) td.className = "payload"; tr.appendChild(td); });
      return tr;
    });
    if (more) tb.append(...rows); else tb.replaceChildren(...rows);
    drillToken = d.next_page_token;
    $("events-more").hidden = !drillToken;
  }
  async function openEvents(school, spec, title, from) {
    drillSchool = school; drillSpec = spec; drillFrom = from;
    $("events-title").textContent = "追溯 · " + title + (spec.to ? "（截至 " + spec.to + "）" : "");
    await loadEvents(false);
    ["district", "school", "repairs", "loans", "custody"].forEach((s) => ($(s).hidden = true));
    VIEWS.forEach((s) => ($(s).hidden = true));
    $("events").hidden = false;
  }
  $("events-more").addEventListener("click", () => loadEvents(true).catch((e) => showError(e.message)));
  $("events-back").addEventListener("click", () => { $("events").hidden = true; $(drillFrom).hidden = false; });

  $("back").addEventListener("click", () => { $("school").hidden = true; $("district").hidden = false; });
  ["as-of", "school-as-of"].forEach((i) => $(i).addEventListener("change", () => refresh().catch((e) => showError(e.message))));

  // 采购与预算: the district's schools (bureau) and one school's budget lines and approvals.
  const STEPS = { department_head: "部门负责人", logistics_director: "总务主任", principal: "校长", bureau: "教育局" };
  const pct = (pm) => (Number(pm) / 10).toFixed(1) + "%";
  $("fiscal-year").value = today.slice(0, 4);
  let procSchools = [], procSort = "name", procAsc = true;
  function cells(tr, values, numFrom) {
    values.forEach((v, i) => { const td = document.createElement("td"); td.textContent = v; if (numFrom(i)) td.className = "num"; tr.appendChild(td); });
    return tr;
  }
  function renderProcSchools() {
    const rows = procSchools.slice().sort((a, b) => {
      const x = a[procSort], y = b[procSort];
      const c = procSort === "name" ? String(x).localeCompare(String(y), "zh-CN") : Number(x) - Number(y);
      return procAsc ? c : -c;
    });
    document.querySelector("#proc-schools tbody").replaceChildren(...rows.map((s) => {
      const tr = document.createElement("tr");
      tr.dataset.school = s.school_id;
      cells(tr, [s.name, yuan(s.budget_fen), yuan(s.committed_fen), yuan(s.spent_fen), yuan(s.available_fen), pct(s.spent_permille),
        int(s.approvals_waiting), int(s.oldest_waiting_days)], (i) => i > 0);
      tr.addEventListener("click", () => openSchoolProcurement(s.school_id, s.name).catch((e) => showError(e.message)));
      return tr;
    }));
    document.querySelectorAll("#proc-schools th").forEach((th) => {
      th.classList.toggle("sorted", th.dataset.sort === procSort);
      th.classList.toggle("asc", th.dataset.sort === procSort && procAsc);
    });
  }
  document.querySelectorAll("#proc-schools th[data-sort]").forEach((th) => th.addEventListener("click", () => {
    procAsc = procSort === th.dataset.sort ? !procAsc : true;
    procSort = th.dataset.sort;
    renderProcSchools();
  }));
  // A date window as a query: from and to of two date inputs.
  function windowQuery(fromInput, toInput) {
    const q = new URLSearchParams();
    if ($(fromInput).value) q.set("from", $(fromInput).value);
    if ($(toInput).value) q.set("to", $(toInput).value);
    return q.toString() ? "?" + q : "";
  }
  // A clickable number that opens the events behind it.
  function drillLink(text, cls, school, drill, title, from) {
    const a = document.createElement("span");
    a.className = "link" + (cls ? " " + cls : "");
    a.textContent = text;
    a.addEventListener("click", (ev) => { ev.stopPropagation(); openEvents(school, drill, title, from).catch((e) => showError(e.message)); });
    return a;
  }
  // 合规率: "ok/n · rate" per rule, the compliant number leading to its purchases, and the
  // non-compliant ones ("不合规 n") to theirs.
  const RULES = [["quotes_compliant", "quotes_required", "quotes_permille", "quotes", "货比三家"],
    ["acceptances_two_person", "acceptances", "acceptances_permille", "acceptances", "双人验收"],
    ["invoices_three_signed", "invoices_reimbursed", "invoices_permille", "invoices", "三签"]];
  const BAD = { quotes: "quotes_noncompliant_drill", acceptances: "acceptances_single_drill", invoices: "invoices_incomplete_drill" };
  const GOOD = { quotes: "quotes_compliant_drill", acceptances: "acceptances_two_person_drill", invoices: "invoices_three_signed_drill" };
  async function loadCompliance(path, table, from) {
    const d = await api(path);
    tablePath[table] = path;
    document.querySelector("#" + table + " tbody").replaceChildren(...d.schools.map((c) => {
      const tr = cells(document.createElement("tr"), [c.name], () => false);
      RULES.forEach(([ok, n, pm, k, name]) => {
        const td = document.createElement("td");
        td.className = "num";
        td.append(drillLink(int(c[ok]) + "/" + int(c[n]) + " · " + pct(c[pm]), "", c.school_id, c[GOOD[k]], c.name + " · " + name + "合规", from));
        const bad = Number(c[n]) - Number(c[ok]);
        if (bad > 0) td.append(" · ", drillLink("不合规 " + int(bad), "bad", c.school_id, c[BAD[k]], c.name + " · " + name + "不合规", from));
        tr.appendChild(td);
      });
      tr.dataset.school = c.school_id;
      return tr;
    }));
  }
  const finding = (x) => [x.slow_moving ? "呆滞" : "", x.overstock ? "积压（可用 " + x.cover_days + " 天）" : ""].filter(Boolean).join("、");
  // 全区库存: value, slow-moving and overstocked items per school; each row leads to the
  // school's stock movements, each item to its own.
  async function loadDistrictStock() {
    const path = "/api/v1/district/procurement/stock" + ($("district-stock-as-of").value ? "?as_of=" + $("district-stock-as-of").value : "");
    const d = await api(path);
    tablePath["district-stock"] = path;
    tablePath["district-stock-items"] = path + (path.includes("?") ? "&" : "?") + "table=items";
    $("district-stock-value").textContent = "¥" + yuan(d.value_fen);
    $("district-stock-slow").textContent = "¥" + yuan(d.slow_moving_value_fen);
    document.querySelector("#district-stock tbody").replaceChildren(...d.schools.map((x) => {
      const tr = cells(document.createElement("tr"), [x.name, int(x.items), yuan(x.value_fen), int(x.slow_moving_items), yuan(x.slow_moving_value_fen),
        pct(x.slow_moving_permille), int(x.overstock_items)], (i) => i > 0);
      tr.dataset.stockSchool = x.school_id;
      tr.className = "drill";
      tr.addEventListener("click", () => openEvents(x.school_id, x.drill, x.name + " · 库存", "district-procurement").catch((e) => showError(e.message)));
      return tr;
    }));
    document.querySelector("#district-stock-items tbody").replaceChildren(...d.items.map((x) => {
      const i = x.item;
      const tr = cells(document.createElement("tr"), [x.name, i.item_code, i.category, int(i.on_hand), yuan(i.value_fen), i.last_issued_on || "从未 / never", finding(i)],
        (k) => k === 3 || k === 4);
      tr.className = "drill";
      tr.addEventListener("click", () => openEvents(x.school_id, i.drill, x.name + " · " + i.item_code, "district-procurement").catch((e) => showError(e.message)));
      return tr;
    }));
  }
  // 全区代收费结算: per school, what is published, collected, settled and still to refund.
  async function loadDistrictFees() {
    const term = $("district-fees-term").value.trim();
    const path = "/api/v1/district/procurement/fees" + (term ? "?term=" + encodeURIComponent(term) : "");
    const d = await api(path);
    tablePath["district-fees"] = path;
    $("district-fees-collected").textContent = "¥" + yuan(d.collected_fen);
    $("district-fees-unsettled").textContent = int(d.unsettled);
    $("district-fees-outstanding").textContent = "¥" + yuan(d.refunds_outstanding_fen);
    document.querySelector("#district-fees tbody").replaceChildren(...d.schools.map((x) => {
      const tr = cells(document.createElement("tr"), [x.name, int(x.published), yuan(x.collected_fen), int(x.on_behalf), int(x.settled), int(x.unsettled),
        int(x.settlement_published), yuan(x.refund_total_fen), yuan(x.refunds_outstanding_fen)], (i) => i > 0);
      tr.dataset.feeSchool = x.school_id;
      tr.className = "drill" + (Number(x.refunds_outstanding_fen) > 0 ? " overdue" : "");
      tr.addEventListener("click", () => openEvents(x.school_id, x.drill, x.name + " · 代收费", "district-procurement").catch((e) => showError(e.message)));
      return tr;
    }));
  }
  async function loadDistrictProcurement() {
    await Promise.all([loadCompliance("/api/v1/district/procurement/compliance" + windowQuery("proc-compliance-from", "proc-compliance-to"), "proc-compliance", "district-procurement"),
      loadDistrictStock(), loadDistrictFees()]);
    const path = "/api/v1/district/procurement?fiscal_year=" + $("fiscal-year").value;
    const d = await api(path);
    tablePath["proc-schools"] = path;
    procSchools = d.schools;
    $("proc-budget").textContent = "¥" + yuan(d.budget_fen);
    $("proc-committed").textContent = "¥" + yuan(d.committed_fen);
    $("proc-spent").textContent = "¥" + yuan(d.spent_fen);
    $("proc-waiting").textContent = int(d.approvals_waiting);
    renderProcSchools();
  }
  async function openSchoolProcurement(id, name) {
    const base = "/api/v1/schools/" + encodeURIComponent(id) + "/procurement/";
    const budgetPath = base + "budget?fiscal_year=" + $("fiscal-year").value;
    const approvalsPath = base + "approvals" + ($("approvals-as-of").value ? "?as_of=" + $("approvals-as-of").value : "");
    const open = (drill, what) => () => openEvents(id, drill, (name || id) + " · " + what, "school-procurement").catch((e) => showError(e.message));
    const [b, w, f, sa, sv] = await Promise.all([api(budgetPath), api(approvalsPath), api(base + "fees"), api(base + "stock-audit"),
      api(base + "stock"), loadCompliance(base + "compliance" + windowQuery("school-compliance-from", "school-compliance-to"), "school-compliance", "school-procurement")]);
    tablePath["stock-items"] = base + "stock";
    $("stock-value").textContent = "¥" + yuan(sv.value_fen);
    $("stock-slow").textContent = "¥" + yuan(sv.slow_moving_value_fen);
    $("stock-value-card").onclick = open(sv.drill, "库存（截至 " + sv.as_of + "）");
    document.querySelector("#stock-items tbody").replaceChildren(...sv.items.map((x) => {
      const tr = cells(document.createElement("tr"), [x.item_code, x.category, int(x.on_hand), yuan(x.value_fen), x.last_issued_on || "从未 / never", finding(x)],
        (i) => i === 2 || i === 3);
      tr.dataset.item = x.item_code;
      tr.className = "drill";
      tr.addEventListener("click", open(x.drill, x.item_code));
      return tr;
    }));
    tablePath["stock-audit"] = base + "stock-audit";
    document.querySelector("#stock-audit tbody").replaceChildren(...sa.categories.map((c) => {
      const tr = cells(document.createElement("tr"), [c.category, yuan(c.opening_fen), yuan(c.received_fen), yuan(c.issued_fen), yuan(c.returned_fen),
        yuan(c.adjusted_fen), yuan(c.closing_fen)], (i) => i > 0);
      tr.className = "drill";
      tr.addEventListener("click", open(c.drill, c.category + " · " + sa.month));
      return tr;
    }));
    $("stock-closing").textContent = yuan(sa.closing_fen);
    tablePath.fees = base + "fees";
    tablePath["budget-lines"] = budgetPath;
    tablePath["spend-months"] = budgetPath + "&table=months";
    tablePath["spend-categories"] = budgetPath + "&table=categories";
    tablePath.approvals = approvalsPath;
    const title = (name || id) + " · 预算执行（" + b.fiscal_year + " 年度）";
    $("proc-title").textContent = title;
    document.querySelector("#budget-lines tbody").replaceChildren(...b.lines.map((l) => {
      const tr = cells(document.createElement("tr"), [l.code + " " + l.name, l.funding_source, yuan(l.budget_fen), yuan(l.committed_fen),
        yuan(l.spent_fen), yuan(l.available_fen), pct(l.spent_permille)], (i) => i > 1);
      tr.dataset.line = l.budget_line_id;
      tr.className = "drill";
      tr.addEventListener("click", () => openEvents(id, l.drill, title + " · " + l.name, "school-procurement").catch((e) => showError(e.message)));
      return tr;
    }));
    $("budget-total").textContent = yuan(b.budget_fen);
    $("budget-committed").textContent = yuan(b.committed_fen);
    $("budget-spent").textContent = yuan(b.spent_fen);
    $("budget-available").textContent = yuan(b.available_fen);
    setDrill("budget-totals", b.drill, title + " · 合计", id);
    document.querySelector("#spend-months tbody").replaceChildren(...b.months.map((m) => {
      const tr = cells(document.createElement("tr"), [m.month, yuan(m.spent_fen)], (i) => i > 0);
      tr.className = "drill";
      tr.addEventListener("click", open(m.drill, m.month + " 支出"));
      return tr;
    }));
    document.querySelector("#spend-categories tbody").replaceChildren(...b.categories.map((c) => {
      const tr = cells(document.createElement("tr"), [c.category, yuan(c.spent_fen)], (i) => i > 0);
      tr.className = "drill";
      tr.addEventListener("click", open(c.drill, c.category + " 支出"));
      return tr;
    }));
    document.querySelector("#approvals tbody").replaceChildren(...w.requests.map((r) => {
      const tr = cells(document.createElement("tr"), [r.purchase_request_id, r.department, yuan(r.estimated_total_fen), r.submitted_on,
        STEPS[r.step] || r.step, r.waiting_since, int(r.age_days)], (i) => i === 2 || i === 6);
      tr.dataset.request = r.purchase_request_id;
      tr.className = "drill";
      tr.addEventListener("click", () => openEvents(id, r.drill, title + " · " + r.purchase_request_id, "school-procurement").catch((e) => showError(e.message)));
      tr.appendChild(decideCell(id, r.purchase_request_id));
      return tr;
    }));
    document.querySelector("#fees tbody").replaceChildren(...f.fees.map((x) => {
      const tr = cells(document.createElement("tr"), [x.term, x.item, int(x.students), yuan(x.collected_fen), yuan(x.spent_fen),
        yuan(x.surplus_fen), yuan(x.refund_total_fen), x.status_name], (i) => i > 1 && i < 7);
      tr.dataset.fee = x.fee_id;
      tr.className = "drill";
      tr.addEventListener("click", () => openEvents(id, x.drill, title + " · " + x.item, "school-procurement").catch((e) => showError(e.message)));
      return tr;
    }));
    $("school-procurement").dataset.id = id;
    $("school-procurement").dataset.name = name || "";
    VIEWS.forEach((s) => ($(s).hidden = s !== "school-procurement"));
    $("proc-back").hidden = !isBureau;
  }
  $("proc-back").addEventListener("click", () => { $("school-procurement").hidden = true; $("district-procurement").hidden = false; });

  // 审批: approve or reject a waiting request from its row, with the comment or reason above
  // the table. The service judges whether the step is the caller's and says why not.
  const APPROVAL_FIELDS = { comment: "审批意见", reason: "驳回理由" };
  const decisionIds = {};
  function decideCell(school, request) {
    const td = document.createElement("td");
    [["approve", "批准", "Approve"], ["reject", "驳回", "Reject"]].forEach(([act, zh, en]) => {
      const b = document.createElement("button");
      b.dataset.act = act;
      b.className = act;
      b.innerHTML = zh + " <small>" + en + "</small>";
      b.addEventListener("click", (ev) => { ev.stopPropagation(); decide(school, request, act).catch((e) => showError(e.message)); });
      td.appendChild(b);
    });
    return td;
  }
  async function decide(school, request, act) {
    const key = act + ":" + request;
    decisionIds[key] = decisionIds[key] || newRequestId("web-sp");
    const text = $("approval-comment").value.trim();
    const body = { request_id: decisionIds[key], school_id: school, purchase_request_id: request };
    showError("");
    $("approval-result").hidden = true;
    let done;
    if (act === "approve") {
      const r = await command("houqin.procurement.v1.ProcurementService/ApprovePurchaseRequest", { ...body, comment: text }, APPROVAL_FIELDS);
      done = r.status === "approved" ? "已批准，审批完成 / approved, every step done" : "已批准，待下一步审批 / approved, waiting for the next step";
    } else {
      await command("houqin.procurement.v1.ProcurementService/RejectPurchaseRequest", { ...body, reason: text }, APPROVAL_FIELDS);
      done = "已驳回 / rejected";
    }
    delete decisionIds[key];
    $("approval-comment").value = "";
    $("approval-result").textContent = request + "：" + done;
    $("approval-result").hidden = false;
    // The approvals report follows the events within moments.
    const sp = $("school-procurement");
    setTimeout(() => openSchoolProcurement(sp.dataset.id, sp.dataset.name).catch((e) => showError(e.message)), 1000);
  }

  // 报修: anyone of the school reports a fault in a room or of an asset.
  const REPAIR_FIELDS = { location: "地点", asset_id: "资产ID", class_name: "班级", description: "故障描述", severity: "紧急程度" };
  let repairRequestId = newRequestId("web-bx");
  $("repair-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const body = { request_id: repairRequestId, school_id: ownSchool };
    ["location", "asset_id", "class_name", "description"].forEach((k) => { body[k] = f.elements[k].value.trim(); });
    if (f.elements.severity.value) body.severity = f.elements.severity.value;
    showError("");
    $("repair-result").hidden = true;
    command("houqin.assets.v1.RepairsService/ReportRepair", body, REPAIR_FIELDS).then((r) => {
      repairRequestId = newRequestId("web-bx");
      f.reset();
      $("repair-result").textContent = "已报修，报修单号 " + r.repair_id + " / Reported: repair " + r.repair_id;
      $("repair-result").hidden = false;
      $("repair-see").hidden = false;
    }).catch((e) => showError(e.message));
  });
  $("repair-to-report").addEventListener("click", () => {
    showError("");
    $("report-repair").hidden = true;
    $("school").dataset.id = ownSchool;
    openRepairs().catch((e) => showError(e.message));
  });
  let view = "assets";
  async function showView() {
    document.querySelectorAll("#views button").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
    $("fiscal-year-box").hidden = view !== "procurement"; // only procurement has a budget year
    VIEWS.forEach((s) => ($(s).hidden = true));
    if (view === "repair") {
      $("report-repair").hidden = false;
    } else if (view === "procurement") {
      if (isBureau) { $("district-procurement").hidden = false; await loadDistrictProcurement(); } else await openSchoolProcurement(ownSchool, "");
    } else if (isBureau) { $("district").hidden = false; await loadDistrict(); } else await openSchool(ownSchool);
  }
  document.querySelectorAll("#views button").forEach((b) => b.addEventListener("click", () => {
    view = b.dataset.view;
    showError("");
    showView().catch((e) => showError(e.message));
  }));
  // The fiscal year, the approvals' day and the compliance window reload the page they are on.
  ["fiscal-year", "approvals-as-of", "school-compliance-from", "school-compliance-to"].forEach((i) => $(i).addEventListener("change", () => {
    if (view !== "procurement") return;
    const sp = $("school-procurement");
    (sp.hidden ? showView() : openSchoolProcurement(sp.dataset.id, sp.dataset.name)).catch((e) => showError(e.message));
  }));
  ["proc-compliance-from", "proc-compliance-to"].forEach((i) => $(i).addEventListener("change", () =>
    loadCompliance("/api/v1/district/procurement/compliance" + windowQuery("proc-compliance-from", "proc-compliance-to"), "proc-compliance", "district-procurement")
      .catch((e) => showError(e.message))));
  $("district-stock-as-of").addEventListener("change", () => loadDistrictStock().catch((e) => showError(e.message)));
  $("district-fees-term").addEventListener("change", () => loadDistrictFees().catch((e) => showError(e.message)));

  async function refresh() {
    showError("");
    if (isBureau) await loadDistrict();
    if (!$("school").hidden) await openSchool($("school").dataset.id);
  }

  async function start() {
    const c = token && claims(token);
    if (!c) return login();
    $("login").hidden = true;
    $("views").hidden = false;
    const roles = c.roles || [];
    isBureau = roles.some((r) => r === "bureau_admin" || r === "bureau_viewer");
    ownSchool = c.school || "";
    $("who").textContent = (c.name || c.sub) + " · " + roles.map((r) => ROLES[r] || r).join("、");
    $("repair-tab").hidden = isBureau; // the bureau reports no repairs
    try {
      if (roles.every((r) => READS_NO_REPORTS.includes(r))) {
        view = "repair";
        await showView();
      } else if (isBureau) {
        $("district").hidden = false;
        await loadDistrict();
      } else {
        $("school-as-of-label").hidden = false;
        await openSchool(ownSchool);
      }
    } catch (e) { showError(e.message); }
  }
  start();
})();
