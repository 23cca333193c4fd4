"""Layer-wise ("structured") empirical NTK for MLPs of Linear layers and element-wise activations.

For a Linear layer y = s_w W a + s_b b with input a_{l−1}(z), the parameter Jacobian of the
generator output is ∂g_d/∂W = s_w δ_{l,d}(z) a_{l−1}(z)^T, with δ_l(z) = ∂g(z)/∂y (D × n_l). Hence

    K_l(z, z') = (s_w² ⟨a_{l−1}(z), a_{l−1}(z')⟩ + s_b²) · δ_l(z) δ_l(z')^T,   K = Σ_l K_l,

and per-sample parameter Jacobians are never formed. δ_l is obtained by back-propagating the
D output directions through the layers once per sample (an explicit reverse sweep).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._threads import SINGLE_THREAD_BELOW_MACS, threads_for
from .methods import NTKKind

__all__ = [
    "ELEMENTWISE",
    "StructuredUnsupported",
    "structured_ntk",
    "structured_operator",
    "supports_structured",
    "supports_structured_operator",
]

#: Activation modules the structured path treats as element-wise maps.
ELEMENTWISE: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.GELU,
    nn.SiLU,
    nn.ELU,
    nn.CELU,
    nn.SELU,
    nn.Softplus,
    nn.Hardtanh,
    nn.Mish,
    nn.Identity,
)


class StructuredUnsupported(TypeError):
    """The model contains a module the structured path does not cover."""


def _flatten(model: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    if isinstance(model, nn.Sequential):
        out = []
        for name, child in model.named_children():
            out += _flatten(child, f"{prefix}{name}.")
        return out
    return [(prefix[:-1], model)]


#: Convolutions the structured operator sweeps with native kernels (zero padding, integer padding).
CONVS: tuple[type[nn.Module], ...] = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)
#: Pure reshapes the structured operator passes through.
RESHAPES: tuple[type[nn.Module], ...] = (nn.Flatten, nn.Unflatten)


def _layers(model: nn.Module, operator: bool = False) -> list[tuple[str, nn.Module]]:
    """The modules of an nn.Sequential the structured path covers, or StructuredUnsupported.

    The kernels (:func:`structured_ntk`) cover Linear layers and element-wise activations; the
    operator (:func:`structured_operator`, ``operator=True``) also zero-padded convolutions
    with integer padding and Flatten/Unflatten.
    """
    what = "structured operator" if operator else "structured NTK"
    covers = (
        "Linear layers, zero-padded convolutions, Flatten/Unflatten and element-wise activations"
        if operator
        else "Linear layers and element-wise activations"
    )
    params = (nn.Linear, *CONVS) if operator else (nn.Linear,)
    layers = _flatten(model) if isinstance(model, nn.Sequential) else []
    if not layers:
        raise StructuredUnsupported(
            f"{what}: expected an nn.Sequential of {covers}, got {type(model).__name__}"
        )
    for name, m in layers:
        if isinstance(m, params) and not isinstance(m._parameters.get("weight"), nn.Parameter):
            raise StructuredUnsupported(
                f"{what}: module {name!r} ({type(m).__name__}) computes its weight from other "
                f"parameters (weight_norm, spectral_norm or another parametrisation)"
            )
        if isinstance(m, nn.Linear) or type(m) in ELEMENTWISE:
            continue
        if operator and type(m) in RESHAPES:
            continue
        if (
            operator
            and type(m) in CONVS
            and m.padding_mode == "zeros"
            and not isinstance(m.padding, str)
        ):
            continue
        raise StructuredUnsupported(
            f"{what}: module {name!r} of type {type(m).__name__} is not supported ({covers} only)"
        )
    if not any(isinstance(m, params) for _, m in layers):
        raise StructuredUnsupported(f"{what}: the model has no parametrised layer it covers")
    return layers


def _covered(model: nn.Module, operator: bool) -> bool:
    try:
        _layers(model, operator)
    except StructuredUnsupported:
        return False
    return True


def supports_structured(model: nn.Module) -> bool:
    """Whether :func:`structured_ntk` covers every module of ``model``."""
    return _covered(model, operator=False)


def supports_structured_operator(model: nn.Module) -> bool:
    """Whether :func:`structured_operator` covers every module of ``model``."""
    return _covered(model, operator=True)


@dataclass
class _LinearTerm:
    a: Tensor  # (N, n_in) layer input
    delta: Tensor  # (B, D, n_out) ∂g/∂(layer output); B = 1 when shared by all samples
    s_w2: float  # s_w²
    s_b2: float  # s_b² if the layer has a bias, else 0


def _terms(layers, params: dict[str, Tensor], z: Tensor) -> list[_LinearTerm]:
    """One forward and one reverse sweep: the (a_{l−1}, δ_l) pairs of every Linear layer."""
    records, d = _forward_records(layers, params, z)
    ref = records[0][1]
    delta = torch.eye(d, dtype=ref.dtype, device=ref.device)[None]  # (1, D, D)
    terms: list[_LinearTerm] = []
    for i, rec in enumerate(reversed(records)):
        if rec[0] == "act":
            _, m, pre, _ = rec
            delta = delta * activation_and_derivative(m, pre)[1][:, None, :]
            continue
        _, a_in, w, b, s_w, s_b = rec
        terms.append(_LinearTerm(a_in, delta, s_w * s_w, s_b * s_b if b is not None else 0.0))
        if i < len(records) - 1:
            delta = delta @ w if s_w == 1.0 else delta @ (s_w * w)
    return terms


def activation_and_derivative(m: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """φ(x) and φ'(x) of an element-wise activation (closed forms for the common ones)."""
    if isinstance(m, nn.LeakyReLU):
        s = m.negative_slope
        return F.leaky_relu(x, s), (x > 0).to(x.dtype).mul_(1 - s).add_(s)
    if isinstance(m, nn.ReLU):
        pos = x > 0
        return x * pos, pos.to(x.dtype)
    if isinstance(m, nn.Tanh):
        y = torch.tanh(x)
        return y, 1 - y * y
    if isinstance(m, nn.Sigmoid):
        y = torch.sigmoid(x)
        return y, y * (1 - y)
    if isinstance(m, nn.Identity):
        return x, torch.ones_like(x)
    # Any other element-wise φ: φ'(x_i) = ∂(Σ_j φ(x_j))/∂x_i by reverse-mode autograd, whose
    # graphs are per thread. (torch.func.jvp is not safe here: its forward-AD levels are
    # process-global, and the block-parallel operator calls this from several threads.)
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        y = m(_own(m, xg))
        (d,) = torch.autograd.grad(y.sum(), xg)
    return y.detach(), d


def _work_macs(layers, params, n1: int, n2: int, kind: NTKKind) -> float:
    """Estimated multiply-adds of :func:`structured_ntk` (reverse sweep + contractions)."""
    lins = [params[f"{name}.weight"].shape for name, m in layers if isinstance(m, nn.Linear)]
    d = lins[-1][0]
    sweep = (n1 + n2) * d * sum(o * i for o, i in lins)
    if kind is NTKKind.DIAGONAL:
        return sweep + n1 * d * d * sum(o for o, _ in lins)
    pair = n1 * n2 * (d * d if kind is NTKKind.FULL else d) * sum(o for o, _ in lins)
    return sweep + pair


def _gram_a(t1: _LinearTerm, t2: _LinearTerm) -> Tensor:
    g = t1.a @ t2.a.T
    if t1.s_w2 != 1.0:
        g = g * t1.s_w2
    return g + t1.s_b2 if t1.s_b2 else g


def structured_ntk(
    model: nn.Module,
    params: dict[str, Tensor],
    z1: Tensor,
    z2: Tensor | None,
    kind: NTKKind,
    block_bytes: int,
) -> Tensor:
    """The empirical NTK by the layer-wise factorisation (see module docstring)."""
    layers = _layers(model)
    work = _work_macs(layers, params, z1.shape[0], z1.shape[0] if z2 is None else z2.shape[0], kind)
    with torch.no_grad(), threads_for(work, z1.device):
        terms1 = _terms(layers, params, z1)
        same = z2 is None
        terms2 = terms1 if same else _terms(layers, params, z2)
        n1 = z1.shape[0]
        n2 = n1 if same else z2.shape[0]
        d = terms1[0].delta.shape[1]
        ref = terms1[0].a
        if kind is NTKKind.DIAGONAL:
            out = torch.zeros(n1, d, d, dtype=ref.dtype, device=ref.device)
            for t in terms1:
                a_diag = t.s_w2 * (t.a * t.a).sum(-1) + t.s_b2  # (N,)
                g = t.delta @ t.delta.transpose(1, 2)  # (B, D, D)
                out.add_(a_diag[:, None, None] * g)
            return out
        if kind is NTKKind.TRACE:
            out = torch.zeros(n1, n2, dtype=ref.dtype, device=ref.device)
            for t1, t2 in zip(terms1, terms2):
                f1 = t1.delta.reshape(t1.delta.shape[0], -1)
                f2 = t2.delta.reshape(t2.delta.shape[0], -1)
                out.addcmul_(_gram_a(t1, t2), f1 @ f2.T)  # (B1, B2) broadcasts
            return out
        return _full(terms1, terms2, n1, n2, d, same, block_bytes)


def _full(terms1, terms2, n1, n2, d, same, block_bytes) -> Tensor:
    ref = terms1[0].a
    k = torch.zeros(n1, d, n2, d, dtype=ref.dtype, device=ref.device)  # layout (i, d, j, e)
    rows = max(1, block_bytes // max(1, d * n2 * d * ref.element_size()))
    if same:
        # Compute the upper block triangle only: with B row blocks it is (B + 1)/(2B) of the
        # work. Measured on 2 cores: B = 2 is fastest for small kernels (N·D < 4096, where
        # per-call overhead dominates), B = 8 for large ones.
        n_blocks = 2 if n1 * d < 4096 else 8
        rows = min(rows, max(1, -(-n1 // n_blocks)))
    for t1, t2 in zip(terms1, terms2):
        a = _gram_a(t1, t2)  # (N1, N2)
        if t1.delta.shape[0] == 1 and t2.delta.shape[0] == 1:
            g = t1.delta[0] @ t2.delta[0].T  # (D, D), the same for every pair
            k.addcmul_(a[:, None, :, None], g[None, :, None, :])
            continue
        dl1 = t1.delta.expand(n1, -1, -1)
        dl2 = t2.delta.expand(n2, -1, -1).reshape(n2 * d, -1)
        for i0 in range(0, n1, rows):
            i1 = min(n1, i0 + rows)
            j0 = i0 if same else 0  # symmetric case: upper block triangle only
            g = dl1[i0:i1].reshape((i1 - i0) * d, -1) @ dl2[j0 * d :].T
            k[i0:i1, :, j0:, :].addcmul_(g.view(i1 - i0, d, n2 - j0, d), a[i0:i1, None, j0:, None])
    if same and any(t.delta.shape[0] > 1 for t in terms1):
        # Mirror the computed upper block triangle: K(z_j, z_i) = K(z_i, z_j)^T.
        for i0 in range(0, n1, rows):
            i1 = min(n1, i0 + rows)
            if i0 > 0:
                k[i0:i1, :, :i0, :] = k[:i0, :, i0:i1, :].permute(2, 3, 0, 1)
    return k.permute(0, 2, 1, 3)


def _conv_args(m: nn.Module) -> tuple:
    """(stride, padding, dilation, transposed, output_padding, groups) of aten.convolution."""
    transposed = isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
    out_pad = list(m.output_padding) if transposed else [0] * len(m.stride)
    return list(m.stride), list(m.padding), list(m.dilation), transposed, out_pad, m.groups


def _forward_records(layers, params: dict[str, Tensor], z: Tensor, flatten: bool = True):
    """Forward sweep storing what the reverse and tangent sweeps need.

    Records: ``("lin", a, w, b, s_w, s_b)``, ``("conv", a, w, b, conv_args, output_shape)``,
    ``("act", module, pre, out)`` and ``("reshape", module, input_shape)``. With ``flatten``
    the latents enter as (N, −1) (MLPs); convolutional models take them as they are.
    """
    a = z.reshape(z.shape[0], -1) if flatten else z
    records: list[tuple] = []
    last = len(layers) - 1
    for i, (name, m) in enumerate(layers):
        if isinstance(m, nn.Linear):
            if a.ndim != 2:
                raise StructuredUnsupported(
                    f"structured path: Linear layer {name!r} gets an input of shape "
                    f"{tuple(a.shape)}; it covers Linear layers on (N, features) only"
                )
            w = params[f"{name}.weight"]
            b = params.get(f"{name}.bias")
            s_w = float(getattr(m, "weight_scale", 1.0))
            s_b = float(getattr(m, "bias_scale", 1.0))
            records.append(("lin", a, w, b, s_w, s_b))
            if i == last:
                # The sweeps never read the model's output, only its size: a final Linear
                # layer (D = 1024 on the benchmark MLP: a tenth of the operator's work) is
                # not evaluated.
                return records, w.shape[0]
            a = F.linear(a, s_w * w if s_w != 1.0 else w, None if b is None else s_b * b)
        elif type(m) in CONVS:
            w, b, args = params[f"{name}.weight"], params.get(f"{name}.bias"), _conv_args(m)
            y = torch.ops.aten.convolution(a, w, b, *args)
            records.append(("conv", a, w, b, args, y.shape))
            a = y
        elif type(m) in RESHAPES:
            records.append(("reshape", m, a.shape))
            a = m(a)
        else:
            out = m(_own(m, a))
            records.append(("act", m, a, out))
            a = out
    return records, a[0].numel()


def _own(m: nn.Module, x: Tensor) -> Tensor:
    """``x`` itself, or a copy for an in-place activation, which would overwrite it: the sweeps
    keep each activation's input."""
    return x.clone() if getattr(m, "inplace", False) else x


def times_derivative(m: nn.Module, t: Tensor, pre: Tensor, out: Tensor) -> Tensor:
    """t ⊙ φ'(pre) for an element-wise activation φ (fused kernels for the common ones)."""
    if isinstance(m, nn.LeakyReLU):
        return torch.ops.aten.leaky_relu_backward(t, pre, m.negative_slope, False)
    if isinstance(m, nn.ReLU):
        return torch.ops.aten.threshold_backward(t, out, 0)
    if isinstance(m, nn.Tanh):
        return torch.ops.aten.tanh_backward(t, out)
    if isinstance(m, nn.Sigmoid):
        return torch.ops.aten.sigmoid_backward(t, out)
    if isinstance(m, nn.Identity):
        return t
    return t * activation_and_derivative(m, pre)[1]


def _reverse(recs, v: Tensor, scale: float) -> dict[int, tuple]:
    """Reverse sweep of one block of particles, one entry per parametrised layer k:

    - Linear: ``("lin", a, s_w² g, s_b² Σ_i g_i)`` with its input a and back-propagated signal
      g = ∂(Σ_i v_i·g(z_i))/∂y_k (the order of the weight term is chosen in :func:`_combine`);
    - convolution: ``("conv", dW, db)``, the weight and bias cotangents of the block.
    """
    g = v
    out: dict[int, tuple] = {}
    first = next(i for i, r in enumerate(recs) if r[0] in ("lin", "conv"))
    for k in range(len(recs) - 1, first - 1, -1):
        rec = recs[k]
        if rec[0] == "act":
            g = times_derivative(rec[1], g.reshape(rec[3].shape), *rec[2:])
            continue
        if rec[0] == "reshape":
            g = g.reshape(rec[2])
            continue
        if rec[0] == "conv":
            _, a, w, b, args, y_shape = rec
            g = g.reshape(y_shape)
            bias_sizes = [w.shape[1] * args[5] if args[3] else w.shape[0]]
            gi, gw, gb = torch.ops.aten.convolution_backward(
                g, a, w, bias_sizes, *args, [k > first, True, b is not None]
            )
            if scale != 1.0:
                gw.mul_(scale)
                gb = None if gb is None else gb.mul_(scale)
            out[k] = ("conv", gw, gb)
            g = gi
            continue
        _, a, w, b, s_w, s_b = rec
        c = s_w * s_w * scale
        db = None if b is None else g.sum(0).mul_(s_b * s_b * scale)
        # Scale only when needed: an element-wise pass costs ~5% of the call here.
        out[k] = ("lin", a, g if c == 1.0 else g * c, db)
        if k > first:
            g = g @ w if s_w == 1.0 else (g @ w).mul_(s_w)
    return out


def _sum_parts(ts: list[Tensor | None]) -> Tensor | None:
    if ts[0] is None:
        return None
    return ts[0] if len(ts) == 1 else torch.stack(ts).sum(0)


def _combine(recs, per_block: list[dict], n: int, m: int) -> dict[int, tuple]:
    """Jᵀ V of all blocks, per parametrised layer.

    Linear layers, in the cheaper of two orders: ``("direct", dW, db)``, the weight cotangent
    dW = Σ_i s_w² g_iᵀ a_i, applied later as a_o dWᵀ; or ``("gram", A, G, db)``, the stacked
    inputs and signals, applied as (a_o Aᵀ) G — fewer multiply-adds when
    N < n_in·n_out/(n_in + n_out). Convolutions: ``("conv", dW, db)`` summed over the blocks.
    """
    ct: dict[int, tuple] = {}
    for k, rec in enumerate(recs):
        if rec[0] == "conv":
            parts = [blk[k] for blk in per_block]
            ct[k] = ("conv", _sum_parts([p[1] for p in parts]), _sum_parts([p[2] for p in parts]))
            continue
        if rec[0] != "lin":
            continue
        n_out, n_in = rec[2].shape
        parts = [blk[k][1:] for blk in per_block]
        db = _sum_parts([p[2] for p in parts])
        if m * n * (n_in + n_out) < (n + m) * n_in * n_out:
            a = parts[0][0] if len(parts) == 1 else torch.cat([p[0] for p in parts])
            g = parts[0][1] if len(parts) == 1 else torch.cat([p[1] for p in parts])
            ct[k] = ("gram", a, g, db)
        else:
            dw = parts[0][1].T @ parts[0][0]
            for a, g, _ in parts[1:]:
                dw.addmm_(g.T, a)
            ct[k] = ("direct", dw, db)
    return ct


def _tangent(recs_out, ct: dict[int, tuple]) -> Tensor:
    """Tangent sweep: dy_l = W_l ⋆ da + dW_l ⋆ a_l + db_l (⋆ the layer's linear map),
    da_l = φ'(y_l) ⊙ dy_l; returns (M, D)."""
    da = None  # None: zero, before the first parametrised layer
    for k, rec in enumerate(recs_out):
        if rec[0] == "act":
            da = None if da is None else times_derivative(rec[1], da, *rec[2:])
            continue
        if rec[0] == "reshape":
            da = None if da is None else rec[1](da)
            continue
        if rec[0] == "conv":
            _, a_o, w, b, args, _ = rec
            _, dw, db = ct[k]
            dy = torch.ops.aten.convolution(a_o, dw, db, *args)
            if da is not None:
                dy.add_(torch.ops.aten.convolution(da, w, None, *args))
            da = dy
            continue
        _, a_o, w, b, s_w, s_b = rec
        term = ct[k]
        db = term[-1]
        if term[0] == "gram":
            gram = a_o @ term[1].T
            dy = gram @ term[2] if db is None else torch.addmm(db, gram, term[2])
        else:
            dy = a_o @ term[1].T if db is None else torch.addmm(db, a_o, term[1].T)
        if da is not None:
            dy.addmm_(da, w.T, alpha=s_w)
        da = dy
    return da.reshape(da.shape[0], -1)


#: Worker threads of the block-parallel operator, by (process id, count), created on first
#: use. Keyed by process so that a forked child (e.g. a DataLoader worker), which inherits the
#: dict but not the threads, makes its own pool instead of waiting on threads that do not exist.
_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _pool(workers: int) -> ThreadPoolExecutor:
    key = (os.getpid(), workers)
    if key not in _POOLS:
        _POOLS[key] = ThreadPoolExecutor(workers, thread_name_prefix="ipm-ntk")
    return _POOLS[key]


def _map_blocks(fn, items: list) -> list:
    """fn over items: the first on this thread, the others on pool threads, concurrently."""
    if len(items) == 1:
        return [fn(items[0])]
    futures = [_pool(len(items) - 1).submit(fn, it) for it in items[1:]]
    first = fn(items[0])
    return [first] + [f.result() for f in futures]


def _row_blocks(n: int, blocks: int) -> list[slice]:
    bounds = [round(i * n / blocks) for i in range(blocks + 1)]
    return [slice(bounds[i], bounds[i + 1]) for i in range(blocks) if bounds[i + 1] > bounds[i]]


def structured_operator(
    model: nn.Module,
    params: dict[str, Tensor],
    z: Tensor,
    v: Tensor,
    z_out: Tensor | None,
    mean: bool,
    blocks: int | None = None,
) -> Tensor:
    """A_θ(V)(z_o) = J(z_o)(Jᵀ V) by explicit reverse and tangent sweeps (no autograd).

    Covers nn.Sequential models of Linear layers, zero-padded convolutions (transposed or not,
    through ``aten.convolution`` and ``aten.convolution_backward``), Flatten/Unflatten and
    element-wise activations. Unlike ``torch.func.functional_call``, which swaps the module's
    parameters in place, the sweeps only read ``params``, so blocks can run on several threads.

    The forward pass at z is shared by Jᵀ V and, when z_out is z, by J(z_o)(·). For a Linear
    layer with back-propagated signals g (N × n_out) and inputs a (N × n_in), the weight
    cotangent is dW = s_w² gᵀa and its tangent at z_o is a_o dWᵀ = s_w² (a_o aᵀ) g: the sweep
    uses whichever of the two orders costs fewer multiply-adds (the Gram order when N < n).

    On a multi-core CPU the particles are split into one block per intra-op thread, each swept
    on its own thread with one intra-op thread (a barrier between the reverse and the tangent
    sweep sums Jᵀ V over the blocks). Intra-op threading splits every small matrix product and
    element-wise pass, and each split wakes the sleeping threads (``OMP_WAIT_POLICY=PASSIVE``);
    block threads run the whole sweep without waking anyone. The result equals the serial
    sweep's up to rounding: the weight and bias cotangents add the blocks' partial sums (float32
    relative difference ~1e-7 on the benchmark MLP). ``blocks`` overrides the choice (1 = the
    serial sweep).
    """
    layers = _layers(model, operator=True)
    flat = not any(type(m) in CONVS or type(m) in RESHAPES for _, m in layers)
    n_params = sum(t.numel() for t in params.values())
    same = z_out is None or z_out is z
    n, m = z.shape[0], (z if same else z_out).shape[0]
    work = 5.0 * n_params * (n + m)
    n_threads = torch.get_num_threads()
    if blocks is None:
        parallel = z.device.type == "cpu" and n_threads > 1 and work >= SINGLE_THREAD_BELOW_MACS
        blocks = n_threads if parallel else 1
    blocks = max(1, min(blocks, n, m))
    with torch.no_grad(), threads_for(work if blocks == 1 else 0.0, z.device):
        in_blocks = _row_blocks(n, blocks)
        out_blocks = in_blocks if same else _row_blocks(m, blocks)
        scale = 1.0 / n if mean else 1.0

        def reverse(sl: slice):
            recs, d = _forward_records(layers, params, z[sl], flat)
            if v.shape[1] != d:
                raise ValueError(
                    f"v: expected D={d} columns (the generator's output size), got {v.shape[1]}"
                )
            return recs, _reverse(recs, v[sl], scale)

        swept = _map_blocks(reverse, in_blocks)
        ct = _combine(swept[0][0], [s[1] for s in swept], n, m)

        def tangent(i: int) -> Tensor:
            recs = (
                swept[i][0]
                if same
                else _forward_records(layers, params, z_out[out_blocks[i]], flat)[0]
            )
            return _tangent(recs, ct)

        outs = _map_blocks(tangent, list(range(len(out_blocks))))
        return outs[0] if len(outs) == 1 else torch.cat(outs)
