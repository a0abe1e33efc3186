// The API reference, rendered from /openapi.json (FastAPI's own docs pages load from a CDN).
"use strict";

(async () => {
  const { el } = HH;
  const out = document.getElementById("api");
  const token = sessionStorage.getItem("hhpnet-token") || "";
  let spec;
  try {
    const res = await fetch("/openapi.json", { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    if (!res.ok) throw new Error((await res.json()).error || res.statusText);
    spec = await res.json();
  } catch (err) {
    const e = document.getElementById("error");
    e.textContent = `cannot read /openapi.json: ${err.message}`;
    e.hidden = false;
    return;
  }
  const ref = (s) => (s && s.$ref ? s.$ref.split("/").pop() : null);
  const typeOf = (s) => {
    if (!s) return "";
    if (s.$ref) return ref(s);
    if (s.enum) return s.enum.join(" | ");
    if (s.anyOf) return s.anyOf.map(typeOf).filter((t) => t !== "null").join(" | ");
    if (s.type === "array") return `${typeOf(s.items)}[]`;
    return s.type || "";
  };
  // text with `code` spans
  const rich = (tag, text) => {
    const node = el(tag);
    String(text || "").split("`").forEach((piece, k) => node.append(k % 2 ? el("code", { text: piece }) : piece));
    return node;
  };
  out.append(rich("p", spec.info.description));
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const sec = el("section", { class: "result" });
      sec.append(el("h2", {}, el("code", { text: `${method.toUpperCase()} ${path}` }), ` — ${op.summary || ""}`));
      if (op.description) sec.append(rich("p", op.description));
      const params = op.parameters || [];
      if (params.length) {
        const t = el("table", {}, el("thead", {}, el("tr", {},
          ...["parameter", "in", "type", "default", "description"].map((h) => el("th", { text: h })))));
        const body = el("tbody");
        for (const p of params) {
          const s = p.schema || {};
          body.append(el("tr", {}, el("td", {}, el("code", { text: p.name })), el("td", { text: p.in }),
            el("td", { text: typeOf(s) }), el("td", { text: s.default === undefined ? "" : JSON.stringify(s.default) }),
            rich("td", p.description || s.description || "")));
        }
        t.append(body);
        sec.append(t);
      }
      if (op.requestBody) {
        sec.append(rich("p", `Body: ${Object.keys(op.requestBody.content).join(", ")}. ${op.requestBody.description || ""}`));
      }
      const codes = Object.entries(op.responses || {}).map(([c, r]) => `${c} ${r.description || ""}`);
      sec.append(el("p", { text: `Answers: ${codes.join("; ")}` }));
      out.append(sec);
    }
  }
})();
