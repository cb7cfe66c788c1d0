"""Fit the no-match model (logistic regression over retrieval features) on tune-ok data: CLINC150.

KB: one FAQ entry per CLINC intent (title = intent name, question = its first training example).
Positives: other training questions of those intents (20 per intent); negatives: the out-of-scope
training questions. The bias is then shifted so that 95% of the positives are kept (the product's
operating point: wrongly hiding an answer costs the agent more than showing a weak one).
Prints the CALIBRATION dict to paste into copilot/retrieve.py, and the fit on CLINC val.

Usage: python benchmarks/calibrate.py [--keep 0.95]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import DATA, need_data
from benchmarks.retrieval import auroc, clinc_index
from copilot import retrieve
from copilot.config import Settings
from copilot.service import Copilot

FEATURES = ("dense_top", "dense_gap", "lexical")


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, iters: int = 50) -> np.ndarray:
    """Class-balanced L2 logistic regression by Newton's method; returns [bias, w...]."""
    xb = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(xb.shape[1])
    sw = np.where(y == 1, 0.5 / max(1, y.sum()), 0.5 / max(1, (1 - y).sum()))
    reg = l2 * np.eye(xb.shape[1])
    reg[0, 0] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ ((p - y) * sw) + reg @ w
        hess = (xb * (sw * p * (1 - p))[:, None]).T @ xb + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", type=float, default=0.95, help="share of in-scope questions to keep")
    args = ap.parse_args()
    need_data("clinc150")
    data = json.loads((DATA / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    first: dict[str, str] = {}
    by_label: dict[str, list[str]] = {}
    for text, label in data["train"]:
        if label not in first:
            first[label] = text
        else:
            by_label.setdefault(label, []).append(text)
    cp = Copilot(Settings.from_env(progress=False), index_dir=clinc_index(first))
    rng = random.Random(0)
    pos = [t for lab in sorted(by_label) for t in rng.sample(by_label[lab], 20)]
    neg = [t for t, _ in data["oos_train"]]

    def feats(texts: list[str]) -> np.ndarray:
        return np.array([[r.features.get(k, 0.0) for k in FEATURES] for r in cp.search_many(texts)])

    xp, xn = feats(pos), feats(neg)
    x = np.vstack([xp, xn])
    y = np.r_[np.ones(len(xp)), np.zeros(len(xn))]
    w = fit_logistic(x, y)
    z_pos = np.hstack([np.ones((len(xp), 1)), xp]) @ w
    # shift the bias so that `keep` of the positives score above 0 (confidence 0.5)
    shift = -float(np.quantile(z_pos, 1 - args.keep))
    w[0] += shift
    calib = {"bias": round(float(w[0]), 3), **{k: round(float(v), 3) for k, v in zip(FEATURES, w[1:])}}
    print("CALIBRATION =", json.dumps(calib))

    retrieve.CALIBRATION.clear()
    retrieve.CALIBRATION.update(calib)
    r_in = cp.search_many([t for t, _ in data["val"]])
    r_oos = cp.search_many([t for t, _ in data["oos_val"]])
    kept = sum(not r.no_match for r in r_in) / len(r_in)
    flagged = sum(r.no_match for r in r_oos) / len(r_oos)
    print(
        f"CLINC150 val: in-scope kept {kept:.3f}, out-of-scope flagged {flagged:.3f}, "
        f"AUROC {auroc([r.confidence for r in r_in], [r.confidence for r in r_oos]):.3f}"
    )
    assert all(math.isfinite(v) for v in calib.values())
    return 0


if __name__ == "__main__":
    sys.exit(main())
