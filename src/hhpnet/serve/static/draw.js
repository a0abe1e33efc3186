// Drawing hhpnet records in the browser: overlays on a canvas, the people table, the
// who-looks-at-whom heat map. The geometry follows hhpnet.draw.pose and hhpnet.convention
// (head axes as HopeNet's draw_axis; the σ fan's half-width √((σ_yaw² + σ_pitch²)/2)).
"use strict";

const HH = (() => {
  const AXIS = ["rgb(230,30,30)", "rgb(30,200,30)", "rgb(40,90,255)"];
  const NOSE = "rgb(255,220,0)", LEFT = "rgb(230,0,200)", RIGHT = "rgb(0,200,230)";
  const GREY = "rgb(150,150,150)";
  const FAN = "rgba(255,170,0,0.35)";
  const rad = (d) => (d * Math.PI) / 180;

  // centroid and head size of the present keypoints (c > 0), as hhpnet.pipeline computes them
  function geometry(person) {
    const pts = person.keypoints.filter((k) => k[2] !== null && k[2] > 0 && k[0] !== null);
    let cx = NaN, cy = NaN, size = 0;
    if (pts.length) {
      cx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
      cy = pts.reduce((s, p) => s + p[1], 0) / pts.length;
      for (const a of pts) for (const b of pts) size = Math.max(size, Math.hypot(a[0] - b[0], a[1] - b[1]));
    }
    const box = person.box;
    if (!(size > 0) && box[0] !== null) size = box[2] - box[0];
    return { cx, cy, size };
  }

  // image-plane projections of the head's x, y, z axes (hhpnet.convention.axes_2d)
  function axes(yaw, pitch, roll) {
    const psi = rad(-yaw), a = rad(pitch), c = rad(roll);
    const ca = Math.cos(a), sa = Math.sin(a), cb = Math.cos(psi), sb = Math.sin(psi);
    const cc = Math.cos(c), sc = Math.sin(c);
    return [
      [cb * cc, ca * sc + sa * sb * cc],
      [-cb * sc, ca * cc - sa * sb * sc],
      [sb, -sa * cb],
    ];
  }

  // the angles to draw: the smoothed ones of a video/stream record when there are some
  function angles(person) {
    const s = person.smooth;
    if (s && s.yaw !== null && s.pitch !== null && s.roll !== null) {
      return { yaw: s.yaw, pitch: s.pitch, roll: s.roll, sigma: s.sigma };
    }
    return { yaw: person.yaw, pitch: person.pitch, roll: person.roll, sigma: person.sigma };
  }

  function fmt(v, digits = 1) {
    if (v === null || v === undefined || Number.isNaN(v)) return "—";
    const t = Math.abs(v).toFixed(digits);
    return (v < 0 && Number(t) !== 0 ? "\u2212" : "") + t;
  }

  function label(person) {
    if (!person.valid) return "no pose";
    const a = angles(person);
    const part = (k, v, s) => `${k} ${v >= 0 ? "+" : "\u2212"}${Math.abs(Math.round(v))}` +
      (s !== null && s !== undefined ? `±${Math.round(s)}` : "");
    return [part("Y", a.yaw, a.sigma.yaw), part("P", a.pitch, a.sigma.pitch), part("R", a.roll, a.sigma.roll)].join("  ");
  }

  function arrow(ctx, x0, y0, x1, y1, width, color, both) {
    const ang = Math.atan2(y1 - y0, x1 - x0), head = width * 4;
    ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = width;
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    const tip = (x, y, a) => {
      ctx.beginPath(); ctx.moveTo(x, y);
      ctx.lineTo(x - head * Math.cos(a - 0.4), y - head * Math.sin(a - 0.4));
      ctx.lineTo(x - head * Math.cos(a + 0.4), y - head * Math.sin(a + 0.4));
      ctx.closePath(); ctx.fill();
    };
    tip(x1, y1, ang);
    if (both) tip(x0, y0, ang + Math.PI);
  }

  // Draw a record's overlays. `layers`: {boxes, keypoints, axes, fans, labels, arrows}; `scale`:
  // record pixels → canvas pixels (a downscaled preview frame).
  function overlays(ctx, record, layers, scale = 1) {
    const people = record.people || [];
    const side = Math.min(record.width || ctx.canvas.width, record.height || ctx.canvas.height);
    ctx.save();
    ctx.scale(scale, scale);
    ctx.lineCap = "round"; ctx.lineJoin = "round";
    const geo = people.map(geometry);
    people.forEach((p, i) => {
      const g = geo[i], a = angles(p);
      const thick = Math.max(1, Math.min(Math.round(g.size / 35), Math.max(2, side / 150)));
      const ok = p.valid && Number.isFinite(g.cx) && a.yaw !== null;
      if (layers.fans && ok) {
        const s = a.sigma, sy = s.yaw ?? 80, sp = s.pitch ?? 80;
        const hw = rad(Math.min(80, Math.max(3, Math.sqrt(0.5 * (sy * sy + sp * sp)))));
        const z = axes(a.yaw, a.pitch, a.roll)[2], norm = Math.hypot(z[0], z[1]);
        const len = g.size * 1.6;
        ctx.fillStyle = FAN; ctx.beginPath();
        if (norm < 0.2) {
          ctx.arc(g.cx, g.cy, len * (0.15 + 0.5 * Math.sin(hw)), 0, 2 * Math.PI);
        } else {
          const base = Math.atan2(z[1], z[0]), reach = len * Math.max(norm, 0.35);
          ctx.moveTo(g.cx, g.cy);
          ctx.arc(g.cx, g.cy, reach, base - hw, base + hw);
          ctx.closePath();
        }
        ctx.fill();
      }
      if (layers.boxes && p.box[0] !== null) {
        ctx.strokeStyle = p.valid ? "rgba(255,255,255,0.85)" : GREY;
        ctx.lineWidth = Math.max(1, thick / 2);
        ctx.strokeRect(p.box[0], p.box[1], p.box[2] - p.box[0], p.box[3] - p.box[1]);
      }
      if (layers.axes && ok) {
        const ax = axes(a.yaw, a.pitch, a.roll);
        for (const k of [1, 0, 2]) {
          ctx.strokeStyle = AXIS[k]; ctx.lineWidth = thick; ctx.beginPath();
          ctx.moveTo(g.cx, g.cy);
          ctx.lineTo(g.cx + ax[k][0] * g.size, g.cy + ax[k][1] * g.size);
          ctx.stroke();
        }
      }
      if (layers.keypoints) {
        const r = Math.max(2, Math.min(Math.round(g.size / 25), 12));
        p.keypoints.forEach((k, j) => {
          if (!(k[2] > 0) || k[0] === null) return;
          ctx.fillStyle = !p.valid ? GREY : j === 0 ? NOSE : (j === 1 || j === 3) ? LEFT : RIGHT;
          ctx.strokeStyle = "black"; ctx.lineWidth = Math.max(1, r / 4);
          ctx.beginPath(); ctx.arc(k[0], k[1], r, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
        });
      }
    });
    const inter = record.interaction;
    if (layers.arrows && inter && inter.attention) {
      const thr = (inter.params && inter.params.threshold) || 0.5;
      const mutual = new Set((inter.mutual || []).map(([i, j]) => `${Math.min(i, j)}-${Math.max(i, j)}`));
      for (let i = 0; i < people.length; i++) {
        for (let j = 0; j < people.length; j++) {
          const v = (inter.attention[i] || [])[j];
          if (i === j || v === null || v === undefined || v < thr) continue;
          const both = mutual.has(`${Math.min(i, j)}-${Math.max(i, j)}`);
          if (both && i > j) continue;
          const a = geo[i], b = geo[j];
          if (!Number.isFinite(a.cx) || !Number.isFinite(b.cx)) continue;
          const d = Math.hypot(b.cx - a.cx, b.cy - a.cy), cut = Math.min(0.25 * d, 0.5 * b.size);
          const ux = (b.cx - a.cx) / d, uy = (b.cy - a.cy) / d;
          const w = Math.max(2, side / 160) * (0.6 + v);
          arrow(ctx, a.cx + ux * cut, a.cy + uy * cut, b.cx - ux * cut, b.cy - uy * cut, w,
            both ? "rgba(40,220,90,0.9)" : `rgba(255,90,40,${0.45 + 0.5 * v})`, both);
        }
      }
    }
    if (layers.labels) {
      const font = Math.max(11, Math.round(side / 38));
      ctx.font = `${font}px system-ui, sans-serif`; ctx.textBaseline = "bottom";
      people.forEach((p, i) => {
        const g = geo[i];
        const name = (p.track_id !== undefined ? `#${p.track_id} ` : `${i} `) + label(p);
        const x = p.box[0] !== null ? p.box[0] : g.cx, y0 = p.box[1] !== null ? p.box[1] : g.cy;
        if (!Number.isFinite(x)) return;
        const w = ctx.measureText(name).width + 8;
        const y = y0 - font - 6 < 0 ? y0 + font + 8 : y0 - 2;
        const xx = Math.max(0, Math.min(x, (record.width || ctx.canvas.width) - w));
        ctx.fillStyle = "rgba(20,20,20,0.8)"; ctx.fillRect(xx, y - font - 4, w, font + 6);
        ctx.fillStyle = p.valid ? "white" : GREY; ctx.fillText(name, xx + 4, y);
      });
    }
    ctx.restore();
  }

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  // The people table: id, detector, yaw / pitch / roll as "value ± σ", score, looks at.
  function peopleTable(record, caption) {
    const people = record.people || [];
    const inter = record.interaction;
    const table = el("table", { class: "people" });
    table.append(el("caption", { text: caption || `${people.length} people` }));
    const head = el("tr");
    for (const h of ["id", "detector", "yaw", "pitch", "roll", "score", "looks at"]) head.append(el("th", { scope: "col", text: h }));
    table.append(el("thead", {}, head));
    const body = el("tbody");
    people.forEach((p, i) => {
      const a = angles(p);
      const pm = (v, s) => (p.valid ? `${fmt(v)} ± ${fmt(s)}` : "—");
      const target = inter && inter.targets ? inter.targets[i] : null;
      const seen = target === null || target === undefined ? null : people[target];
      const tr = el("tr", { "data-person": String(i) });
      tr.append(
        el("th", { scope: "row", text: p.track_id !== undefined ? `#${p.track_id}` : String(i) }),
        el("td", { text: (p.detector || "—").replaceAll("+", "+\u200b") }),
        el("td", { class: "num", "data-angle": "yaw", text: pm(a.yaw, a.sigma.yaw) }),
        el("td", { class: "num", "data-angle": "pitch", text: pm(a.pitch, a.sigma.pitch) }),
        el("td", { class: "num", "data-angle": "roll", text: pm(a.roll, a.sigma.roll) }),
        el("td", { class: "num", text: fmt(p.score, 2) }),
        el("td", { text: !seen ? "—" : seen.track_id !== undefined ? `#${seen.track_id}` : String(target) }),
      );
      body.append(tr);
    });
    table.append(body);
    return table;
  }

  // The who-looks-at-whom heat map: row i, column j = how much i looks at j (attention).
  function heatmap(record) {
    const inter = record.interaction;
    const n = (record.people || []).length;
    const wrap = el("figure", { class: "heatmap" });
    if (!inter || n < 2) {
      wrap.append(el("figcaption", { text: "Who looks at whom: needs two people or more." }));
      return wrap;
    }
    const mutual = new Set((inter.mutual || []).map(([i, j]) => `${i}-${j}`));
    const table = el("table", { class: "matrix" });
    const head = el("tr", {}, el("th", { scope: "col", text: "looks at →" }));
    for (let j = 0; j < n; j++) head.append(el("th", { scope: "col", text: String(j) }));
    table.append(el("thead", {}, head));
    const body = el("tbody");
    for (let i = 0; i < n; i++) {
      const tr = el("tr", {}, el("th", { scope: "row", text: String(i) }));
      for (let j = 0; j < n; j++) {
        const v = i === j ? null : inter.attention[i][j];
        const td = el("td", { class: "num" });
        if (v === null || v === undefined) {
          td.textContent = "·";
        } else {
          const star = mutual.has(`${i}-${j}`) || mutual.has(`${j}-${i}`) ? " ★" : "";
          td.textContent = v.toFixed(2) + star;
          td.style.background = `rgba(220,60,20,${(0.08 + 0.85 * v).toFixed(3)})`;
          td.style.color = v > 0.55 ? "white" : "inherit";
          td.title = `${i} looks at ${j}: ${v.toFixed(3)}`;
        }
        tr.append(td);
      }
      body.append(tr);
    }
    table.append(body);
    wrap.append(table, el("figcaption", {
      text: `Row looks at column (attention, 0–1; ★ mutual). Method ${inter.method}, scene score ${fmt(inter.scene_score, 2)}.`,
    }));
    return wrap;
  }

  return { overlays, peopleTable, heatmap, el, fmt, label };
})();
