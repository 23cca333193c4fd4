"""Which digits each image model draws, under ipm's MNIST classifier.

    OMP_WAIT_POLICY=PASSIVE IPM_MNIST_DIR=/path/to/mnist python -m experiments.class_balance \
        RUN [RUN ...] [--n 2000] [--threshold 0.9] [--out docs/results/class_balance/<data>]

For each run (digits or MNIST), ``--n`` samples (clamped to [−1, 1]) and ``--n`` data images of
the run's data set are classified; the table gives the share of each predicted class, the
fraction classified with confidence above ``--threshold`` (a recognisability proxy, read
against the data's own fraction) and the total-variation distance of the class shares to the
data's (:func:`ipm.metrics.class_balance`). ``class_balance.png``: the shares as bars.
``--quick`` uses 200 images.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from experiments import ROOT
from ipm.report import Report, common_arguments, rerender


@torch.no_grad()
def classify_samples(model, clf, n: int, batch: int, generator) -> torch.Tensor:
    """Logits (n, 10) of n samples of ``model``, drawn ``batch`` at a time."""
    out, done = [], 0
    while done < n:
        k = min(batch, n - done)
        x = model.sample(k, generator=generator).x.clamp(-1, 1)
        out.append(clf(x.reshape(k, *model.shape).float()))
        done += k
    return torch.cat(out)


def plot(rows: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2))
    w = 0.8 / len(rows)
    for i, (name, r) in enumerate(rows.items()):
        xs = [c + (i - (len(rows) - 1) / 2) * w for c in range(10)]
        ax.bar(xs, r["shares"], width=w, label=f"{name} ({r['confident']:.2f} confident)")
    ax.set_xticks(range(10))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("share of images")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> dict:
    from ipm.data import dataset
    from ipm.engine import load_run
    from ipm.metrics import class_balance
    from ipm.metrics.classifier import load_mnist_classifier
    from ipm.metrics.image_quality import reference_batches

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--threshold", type=float, default=0.9)
    p.add_argument("--batch", type=int, default=500)
    common_arguments(p)
    a = p.parse_args(argv)
    if a.render:
        return rerender(a.out, "class_balance", markdown)
    if a.quick:
        a.n = 200
    if a.n <= 0:
        raise SystemExit(f"class_balance: --n must be positive, got {a.n}")
    torch.set_num_threads(a.threads)
    loaded = [(r, *load_run(r)[:2]) for r in a.runs]
    data_names = {cfg.data.name for _, cfg, _ in loaded}
    if "gaussians" in data_names or len(data_names) != 1:
        raise SystemExit(
            f"class_balance: runs of one image data set expected, got data {sorted(data_names)}"
        )
    data_cfg = loaded[0][1].data
    a.out = a.out or ROOT / "docs/results/class_balance" / data_cfg.name
    report = Report("class_balance", a.out, a.seed, a.quick)
    clf = load_mnist_classifier()
    data = dataset(data_cfg)
    ref_logits = torch.cat([clf(x.float()) for x in reference_batches(data, a.n, a.batch, a.seed)])
    ref = class_balance(ref_logits, threshold=a.threshold)
    ref_shares = torch.tensor(ref.shares, dtype=torch.float64)
    rows = {"data": {**ref.as_dict(), "tv_to_reference": 0.0}}  # the data against itself
    for run, cfg, model in loaded:
        g = torch.Generator().manual_seed(a.seed)
        logits = classify_samples(model, clf, a.n, a.batch, g)
        rows[str(run)] = {
            "model": cfg.model.name,
            **class_balance(logits, ref_shares, a.threshold).as_dict(),
        }
    plot(rows, a.out / "class_balance.png")
    res = {"data": data_cfg.name, "n": a.n, "results": rows}
    report.write(res, markdown(res))
    return rows


def markdown(res: dict) -> str:
    """The page: per run its confident share, TV to the data and the share of each class."""
    rows, ref = res["results"], res["results"]["data"]
    head = "| images | model | confident | TV to data | " + " | ".join(map(str, range(10))) + " |"
    lines = [head, "|" + "---|" * 14]
    for name, r in rows.items():
        shares = " | ".join(f"{s:.3f}" for s in r["shares"])
        lines.append(
            f"| `{name}` | {r.get('model', '–')} | {r['confident']:.3f} | "
            f"{r['tv_to_reference']:.3f} | {shares} |"
        )
    return (
        f"{res['n']} samples per run (clamped to [−1, 1]) and {ref['n']} images of the data set "
        f"({res['data']}), classified by ipm's MNIST classifier. Confident: max softmax "
        f"probability > {ref['threshold']}. TV: total-variation distance of the class shares to "
        "the data's. Columns 0–9: share of each predicted class. `class_balance.png`: the "
        "shares as bars.\n\n" + "\n".join(lines)
    )


if __name__ == "__main__":
    main()
