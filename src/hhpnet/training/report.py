"""Report writers of an evaluation: the markdown report and calibration PNG of one
:class:`hhpnet.training.evaluate.EvalResult`, and the compact headline figures and comparison table
of several (re-exported by :mod:`hhpnet.training.evaluate`, where they used to live)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hhpnet._types import JSONObject
from hhpnet.convention import ANGLE_NAMES
from hhpnet.errors import InputError
from hhpnet.training.metrics import sparsification, uncertainty_metrics

if TYPE_CHECKING:
    from hhpnet.training.evaluate import EvalResult

__all__ = ["comparison_table", "headline", "markdown_report", "plot_calibration"]


def _cell(text: str) -> str:
    """Text for a markdown table cell (``|`` escaped, as in the group names ``|yaw| 0–30``)."""
    return text.replace("|", "\\|")


def markdown_report(result: EvalResult) -> str:
    """A markdown report of :meth:`EvalResult.summary` (:meth:`EvalResult.markdown`)."""
    s = result.summary()
    has_base = result.baseline_error is not None
    lines = [f"# Evaluation: {result.name}", ""]
    for k, v in result.info.items():
        lines.append(f"- {k}: {v}")
    lines += [f"- people: {s['n']}, valid model outputs: {s['valid']}", ""]
    head = "| group | n | yaw | pitch | roll | **mean** |"
    sep = "|---|---|---|---|---|---|"
    if has_base:
        head += " PnP yaw | PnP pitch | PnP roll | **PnP mean** |"
        sep += "---|---|---|---|"

    def row(label: str, n: int, mae: Sequence[float], base: Sequence[float] | None) -> str:
        cells = [f"{v:.2f}" for v in mae]
        cells[3] = f"**{cells[3]}**"
        text = f"| {label} | {n} | " + " | ".join(cells) + " |"
        if base is not None:
            b = [f"{v:.2f}" for v in base]
            b[3] = f"**{b[3]}**"
            text += " " + " | ".join(b) + " |"
        return text

    if s.get("detection"):
        lines += ["## Detected (face found by the detector)", ""]
        lines += ["| group | found | of | share |", "|---|---|---|---|"]
        for label, d in s["detection"].items():
            lines.append(f"| {_cell(label)} | {d['found']} | {d['n']} | {100 * d['share']:.1f} % |")
        lines.append("")
    lines += ["## MAE (degrees; yaw error wrapped)", "", head, sep]
    lines.append(row("all", s["valid"], s["mae"], s.get("baseline_mae")))
    for gname, table in s["groups"].items():
        for label, g in table.items():
            lines.append(row(_cell(f"{gname} {label}"), g["n"], g["mae"], g.get("baseline_mae")))
    if "bias" in s:
        lines += _bias_lines(s)
    lines += _uncertainty_lines(s["uncertainty"])
    return "\n".join(lines) + "\n"


def _bias_lines(s: JSONObject) -> list[str]:
    """The signed-bias section of :func:`markdown_report` (``s``: the summary)."""
    lines: list[str] = []
    bhead = "| group | n | yaw | pitch | roll |"
    bsep = "|---|---|---|---|---|"
    if "baseline_bias" in s:
        bhead += " PnP yaw | PnP pitch | PnP roll |"
        bsep += "---|---|---|"
    lines += [
        "",
        "## Signed bias (mean of prediction − label, degrees)",
        "",
        bhead,
        bsep,
    ]

    def brow(label: str, g: JSONObject) -> str:
        text = f"| {label} | {g['n']} | " + " | ".join(f"{v:+.2f}" for v in g["bias"])
        if "baseline_bias" in g:
            text += " | " + " | ".join(f"{v:+.2f}" for v in g["baseline_bias"])
        return text + " |"

    lines.append(brow("all", {**s, "n": s["valid"]}))
    for gname in ("|yaw|", "|yaw|≤90"):
        for label, g in s["groups"].get(gname, {}).items():
            lines.append(brow(_cell(f"{gname} {label}"), g))
    return lines


def _uncertainty_lines(u: JSONObject) -> list[str]:
    """The uncertainty section of :func:`markdown_report` (``u``: the summary's
    ``uncertainty``)."""
    lines: list[str] = []
    lines += [
        "",
        "## Uncertainty",
        "",
        "| angle | Spearman(σ, abs error) | same if σ were exact | abs error ≤ σ "
        "| abs error ≤ 2σ |",
        "|---|---|---|---|---|",
    ]
    for a in ANGLE_NAMES:
        lines.append(
            f"| {a} | {u[a]['spearman']:.3f} | {u[a].get('spearman_ideal', float('nan')):.3f} "
            f"| {100 * u[a]['within_1sigma']:.1f} % | {100 * u[a]['within_2sigma']:.1f} % |"
        )
    fr = u["fractions"]
    lines += [
        "",
        "Sparsification: MAE after removing the most uncertain x % (oracle: largest errors).",
        "",
        "| removed | " + " | ".join(f"{int(100 * f)} %" for f in fr) + " |",
        "|---|" + "---|" * len(fr),
    ]
    for a in ANGLE_NAMES:
        lines.append(f"| {a} | " + " | ".join(f"{v:.2f}" for v in u[a]["sparsification"]) + " |")
        lines.append(f"| {a} oracle | " + " | ".join(f"{v:.2f}" for v in u[a]["oracle"]) + " |")
    return lines


def plot_calibration(result: EvalResult, path: str | Path, bins: int = 12) -> Path:
    """Reliability (RMS |error| per σ-quantile bin vs mean σ) and sparsification curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = result.valid & np.isfinite(result.error).all(axis=1)
    err, sig = result.error[ok], result.sigma[ok].astype(np.float64)
    fig, axes = plt.subplots(2, 3, figsize=(12, 7.5))
    for i, a in enumerate(ANGLE_NAMES):
        ax = axes[0, i]
        e, s = err[:, i], sig[:, i]
        nb = min(bins, len(e) // 10)
        if nb >= 1:
            edges = np.quantile(s, np.linspace(0, 1, nb + 1))
            idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, nb - 1)
            used = [b for b in range(nb) if (idx == b).any()]
            ms = np.array([s[idx == b].mean() for b in used])
            rms = np.array([np.sqrt(np.mean(e[idx == b] ** 2)) for b in used])
            mae = np.array([e[idx == b].mean() for b in used])
            top = float(max(ms.max(), rms.max())) * 1.05
            ax.plot([0, top], [0, top], color="0.6", ls="--", label="ideal (RMS = σ)")
            ax.plot(ms, rms, "o-", color="C0", label="RMS error")
            ax.plot(ms, mae, "s-", color="C1", ms=4, label="mean abs error")
            ax.plot([0, top], [0, top * np.sqrt(2 / np.pi)], color="C1", ls=":", lw=1)
            ax.set_xlim(0, top)
            ax.set_ylim(0, top)
            ax.legend(fontsize=8, loc="upper left")
        ax.set_title(f"{a}: reliability ({nb} σ-quantile bins)")
        ax.set_xlabel("predicted σ (degrees)")
        ax.set_ylabel("error (degrees)")
        ax.grid(alpha=0.3)
        ax = axes[1, i]
        fr = np.linspace(0, 0.95, 20)
        ax.plot(100 * fr, sparsification(e, s, fr), "o-", ms=3, label="remove largest σ")
        ax.plot(100 * fr, sparsification(e, e, fr), "--", color="0.4", label="oracle")
        ax.plot(100 * fr, np.full_like(fr, e.mean()), ":", color="0.6", label="random")
        ax.set_title(f"{a}: sparsification")
        ax.set_xlabel("people removed (%)")
        ax.set_ylabel("MAE of the rest (degrees)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Uncertainty calibration — {result.name}")
    fig.tight_layout()
    p = Path(path)
    fig.savefig(p, dpi=90)
    plt.close(fig)
    return p


def headline(result: EvalResult, baseline: bool = False) -> JSONObject:
    """The compact figures of one result: n, MAE (yaw, pitch, roll, mean), mean MAE per |yaw|
    bin, signed bias, and (model only) 1σ coverage and Spearman(σ, |error|) per angle."""
    err = result.baseline_error if baseline else result.error
    if err is None:
        raise InputError(f"{result.name}: no baseline errors (evaluated without the baseline)")
    ok = np.isfinite(err).all(axis=1)
    if not baseline:
        ok &= result.valid
    out: dict[str, Any] = {
        "n": int(ok.sum()),
        "mae": result.mae(baseline=baseline).tolist(),
        "bins": {
            label: float(result.mae(m, baseline=baseline)[3])
            for label, m in result.groups.get("|yaw|", {}).items()
        },
        "bias": result.bias(baseline=baseline).tolist(),
    }
    if not baseline:
        u = uncertainty_metrics(result.error[ok], result.sigma[ok])
        out["within_1sigma"] = [u[a]["within_1sigma"] for a in ANGLE_NAMES]
        out["spearman"] = [u[a]["spearman"] for a in ANGLE_NAMES]
    return out


def comparison_table(rows: Sequence[tuple[str, EvalResult, bool]]) -> str:
    """A markdown table with one line per ``(label, result, baseline)``: the :func:`headline`
    figures of the model (``baseline`` False) or of its solvePnP baseline (True)."""
    if not rows:
        return ""
    figures = [(label, headline(res, base)) for label, res, base in rows]
    bins = list(figures[0][1]["bins"])
    head = (
        "| method | n | **mean** | yaw | pitch | roll | "
        + " | ".join(_cell(f"|yaw| {b}") for b in bins)
        + " | bias yaw / pitch / roll | 1σ cover y / p / r | Spearman y / p / r |"
    )
    lines = [head, "|---" * (9 + len(bins)) + "|"]
    for label, f in figures:
        mae = f["mae"]
        cells = [label, str(f["n"]), f"**{mae[3]:.2f}**", *(f"{v:.2f}" for v in mae[:3])]
        cells += [f"{f['bins'].get(b, float('nan')):.2f}" for b in bins]
        cells.append(" / ".join(f"{v:+.1f}" for v in f["bias"]))
        if "within_1sigma" in f:
            cells.append(" / ".join(f"{100 * v:.0f} %" for v in f["within_1sigma"]))
            cells.append(" / ".join(f"{v:.2f}" for v in f["spearman"]))
        else:
            cells += ["—", "—"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
