"""``python -m benchmarks [--check]``: write ``docs/benchmarks.md`` from the measurements in
``docs/benchmarks/*.json`` (each written by ``python -m benchmarks.<name> --json``); with
``--check``, only fail if the page differs from its rendering."""

from __future__ import annotations

import argparse
import json

from benchmarks import DOCS
from benchmarks.ntk import FULL_METHODS

PAGE = DOCS.parent / "benchmarks.md"

INTRO = """# Benchmarks

Written by `python -m benchmarks` from `docs/benchmarks/*.json`; each section names the command
that measured it and the machine. Each configuration that reports memory runs in a fresh
process (peak = the process's peak resident set; an idle torch process with the model is about
235 MiB); times are medians after a warm-up. Timings on shared hosts move by tens of percent
from minute to minute: compare ratios measured in one run."""

NTK = """The empirical NTK of an MLP 128 → 4×512 (LeakyReLU 0.2) → D and of a DCGAN-style
generator (128 → 1×32×32). `structured`: the full N×N×D×D kernel by the layer-wise
factorisation; `trace`: N×N; `operator`: the matrix-free A_θ(V) of Eq. 14; `jacobian_contraction`
and `ntk_vector_products`: ipm's generic paths for any module (per-sample Jacobians, or a vjp and
a jvp per output basis vector). Baselines, not ipm: `torch_func_recipe`, the plain recipe of
torch.func's NTK tutorial (`vmap(jacrev)` over all particles, one `einsum` per parameter tensor),
and `operator_jax`, the same operator in JAX (`jax.jvp` of `jax.vjp`, compiled), measured right
after each `operator` row. Each configuration runs in its own process, one after another."""

NTK_EIGS = """The top-k eigenpairs of the NTK Gram (N·D × N·D) of the MNIST-cpu GAN's generator (DCGAN,
128 → 1×32×32, width 32, BatchNorm in eval mode, at initialisation, float32), through the
matrix-free operator, each method to the same stopping rule (every residual ‖K u − λ u‖ at most
the tolerance × λ_1), each in its own process. `ntk_eigs`: ipm's thick-restart Lanczos;
`scipy_eigsh`: ARPACK (`scipy.sparse.linalg.eigsh`, the baseline) on a `LinearOperator` of the
same operator products; `dense`: the materialised Gram, which cannot be held."""

FLOWS = """One squared-MMD flow step (two chunked kernel-gradient sums, normalised RBF) in 2-D, the
block size chosen automatically; `interleaved` times dense and chunked in one process."""

NETS = """Seconds per training step (forward, backward, fused Adam update) of `ipm`'s networks
and of a reference implementation of the same architecture at nearly equal parameter count,
measured alternately in one process, median after two warm-up steps; bf16 is autocast on both."""


MODELS = """Seconds per training step (every network's update in the model's own step, EMA and
checkpoints excluded) of each config of an image folder, built as `ipm train` builds it, at each
precision, at its own thread count; the configs take turns for several rounds in one process
(a Score GAN is left out where the EDM of its data score is not there). `config minutes`: the
config's `train.steps` at the median step time. On a CPU without native bfloat16 (the machine
line says) bf16 is emulated."""

DATA = """Images per second an image data set draws as training batches (indices from a CPU
generator; images gathered, converted to float32 in [−1, 1] and flattened where they are held),
MNIST-sized: 60,000 uint8 images of 1×32×32; `hflip`: each also mirrored with probability ½ there
(the augmentation of `data.hflip`)."""


def _load(name: str) -> dict | None:
    f = DOCS / f"{name}.json"
    return json.loads(f.read_text()) if f.is_file() else None


def _head(rec: dict, title: str, text: str) -> list[str]:
    return ["", f"## {title}", "", text, "", f"- command: `{rec['command']}`",
            f"- machine: {rec['hardware']}", ""]  # fmt: skip


def _mib(r: dict) -> str:
    return f"{r['peak_rss_mib']:.0f}" if "peak_rss_mib" in r else "–"


def ntk_section(rec: dict) -> list[str]:
    lines = _head(rec, "Empirical NTK", NTK)
    lines += ["| method | model | D | N | seconds | peak MiB |", "|---|---|---|---|---|---|"]
    for r in rec["rows"]:
        secs = f"{r['seconds']:.4g}" if r.get("seconds") is not None else r.get("note", "–")
        lines.append(f"| {r['method']} | {r['model']} | {r['D']} | {r['N']} | {secs} | {_mib(r)} |")
    ops = {
        (r["model"], r["D"], r["N"]): r["seconds"] for r in rec["rows"] if r["method"] == "operator"
    }
    jax = {
        (r["model"].split("-")[0], r["D"], r["N"]): r["seconds"]
        for r in rec["rows"]
        if r["method"] == "operator_jax"
    }
    recipe = {
        (r["model"], r["D"], r["N"]): r["seconds"]
        for r in rec["rows"]
        if r["method"] == "torch_func_recipe" and r.get("seconds") is not None
    }
    full = [
        r
        for r in rec["rows"]
        if r["method"] in FULL_METHODS
        and (r["model"], r["D"], r["N"]) in recipe
        and r.get("seconds") is not None
    ]
    if full:
        lines += [
            "",
            "| full kernel | method | s | recipe s | method / recipe |",
            "|---|---|---|---|---|",
        ]
        for r in full:
            b = recipe[(r["model"], r["D"], r["N"])]
            lines.append(
                f"| {r['model']}, D = {r['D']}, N = {r['N']} | {r['method']} | "
                f"{r['seconds']:.4g} | {b:.4g} | {r['seconds'] / b:.3g} |"
            )
    both = sorted(k for k in ops if k in jax)
    if both:
        lines += ["", "| operator | ipm s | JAX s | ipm / JAX |", "|---|---|---|---|"]
        for k in both:
            lines.append(
                f"| {k[0]}, D = {k[1]}, N = {k[2]} | {ops[k]:.4g} | {jax[k]:.4g} | "
                f"{ops[k] / jax[k]:.2f} |"
            )
    return lines


def ntk_interleaved_section(rec: dict) -> list[str]:
    lines = [
        "",
        "The generic Jacobian contraction against the plain recipe, timed alternately in one "
        f"process (`{rec['command']}`; {rec['hardware']}):",
        "",
        "| full kernel | jacobian_contraction s | recipe s | jacobian_contraction / recipe |",
        "|---|---|---|---|",
    ]
    for r in rec["rows"]:
        lines.append(
            f"| {r['model']}, D = {r['D']}, N = {r['N']} | {r['jacobian_contraction_seconds']:.4g} "
            f"| {r['torch_func_recipe_seconds']:.4g} | {r['ratio']:.3g} |"
        )
    return lines


def ntk_eigs_section(rec: dict) -> list[str]:
    lines = _head(rec, "Top eigenpairs of the NTK at image scale", NTK_EIGS)
    lines += [
        "| method | N | D | k | tolerance | operator products | seconds | peak MiB | "
        "max residual |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rec["rows"]:
        head = f"| {r['method']} | {r['N']} | {r['D']} | {r['k']} |"
        if "seconds" not in r:
            lines.append(f"{head} – | – | {r['note']} | – | – |")
            continue
        lines.append(
            f"{head} {r['tol']:g} | {r['products']} | {r['seconds']:.3g} | {_mib(r)} | "
            f"{r['max_residual']:.2g} |"
        )
    vals = [r["values"] for r in rec["rows"] if "values" in r]
    if len(vals) == 2:
        diff = max(abs(a - b) / vals[0][0] for a, b in zip(*vals, strict=True))
        lines += ["", f"Largest difference of the two methods' eigenvalues, over λ_1: {diff:.2g}."]
    return lines


def flows_section(rec: dict) -> list[str]:
    lines = _head(rec, "Chunked kernel sums", FLOWS)
    lines += ["| mode | N | M | block rows | seconds | peak MiB |", "|---|---|---|---|---|---|"]
    for r in rec["rows"]:
        if r["mode"] == "interleaved":
            ratio = r["dense_seconds"] / r["chunked_seconds"]
            lines.append(
                f"| interleaved | {r['N']} | {r['M']} | – | dense {r['dense_seconds']:.3g}, "
                f"chunked {r['chunked_seconds']:.3g} (chunked {ratio:.2f}× faster) | – |"
            )
        else:
            lines.append(
                f"| {r['mode']} | {r['N']} | {r['M']} | {r['chunk_size']} | "
                f"{r['seconds']:.3g} | {_mib(r)} |"
            )
    return lines


def nets_section(rec: dict) -> list[str]:
    lines = _head(rec, "Networks against reference implementations", NETS)
    lines += [
        "| network | precision | threads | ipm params | ipm s/step | reference | "
        "reference params | reference s/step | ipm / reference |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = rec["rows"]
    for r in (r for r in rows if r["implementation"] == "ipm"):
        key = (r["network"], r["precision"], r["threads"])
        for q in rows:
            if q["implementation"] == "ipm" or (q["network"], q["precision"], q["threads"]) != key:
                continue
            lines.append(
                f"| {r['network']} | {r['precision']} | {r['threads']} | {r['parameters']:,} | "
                f"{r['seconds_per_step']:.3g} | {q['implementation']} | {q['parameters']:,} | "
                f"{q['seconds_per_step']:.3g} | {r['seconds_per_step'] / q['seconds_per_step']:.2f} |"
            )
    own = {(r["network"], r["precision"], r["threads"]): r["seconds_per_step"] for r in rows
           if r["implementation"] == "ipm"}  # fmt: skip
    ratios = [
        f"{net} at {th} thread{'s' * (th > 1)}: {sec / own[(net, 'fp32', th)]:.2f}"
        for (net, prec, th), sec in own.items()
        if prec == "bf16" and (net, "fp32", th) in own
    ]
    if ratios:
        lines += [
            "",
            "`ipm`'s bf16 step time over its fp32 step time (timed in different blocks of the "
            "run, not alternately, so less certain than the columns above): "
            + "; ".join(ratios)
            + ".",
        ]
    return lines


def models_section(rec: dict) -> list[str]:
    folder = rec["rows"][0]["configs"] if rec["rows"] else "?"
    lines = _head(rec, f"Training steps of the {folder} configs", MODELS)
    lines += ["| config | precision | threads | median s/step | mean s/step | steps timed | "
              "config minutes |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rec["rows"]:
        minutes = r["config_steps"] * r["median_s_per_step"] / 60
        lines.append(
            f"| {r['model']} | {r['precision']} | {r['threads']} | {r['median_s_per_step']:.3g} | "
            f"{r['mean_s_per_step']:.3g} | {r['steps_timed']} | {minutes:.1f} |"
        )
    return lines


def data_section(rec: dict) -> list[str]:
    lines = _head(rec, "Loader throughput", DATA)
    lines += ["| device | batch | hflip | threads | images/s |", "|---|---|---|---|---|"]
    for r in rec["rows"]:
        flip = "yes" if r.get("hflip") else "no"
        lines.append(
            f"| {r['device']} | {r['batch']} | {flip} | {r['threads']} | "
            f"{r['images_per_second']:,.0f} |"
        )
    return lines


def render() -> str:
    lines = [INTRO]
    for name, section in (("ntk", ntk_section), ("ntk_interleaved", ntk_interleaved_section),
                          ("ntk_eigs", ntk_eigs_section),
                          ("flows", flows_section), ("nets", nets_section),
                          ("data", data_section)):  # fmt: skip
        rec = _load(name)
        if rec is not None:
            lines += section(rec)
    for f in sorted(DOCS.glob("models_*.json")):
        lines += models_section(json.loads(f.read_text()))
    lines += [
        "",
        "Step times of the Gaussians models: `docs/results/gaussians/` "
        "(`python -m benchmarks.models`).",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--check", action="store_true")
    a = p.parse_args(argv)
    text = render()
    if a.check:
        if not PAGE.is_file() or PAGE.read_text() != text:
            raise SystemExit(f"{PAGE} differs from its rendering: run python -m benchmarks")
        return 0
    PAGE.write_text(text)
    print(f"-> {PAGE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
