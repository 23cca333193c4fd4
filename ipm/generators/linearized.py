"""First-order Taylor expansion of a network in its parameters (Lee et al., 2019)."""

from __future__ import annotations

from torch import Tensor, nn
from torch.func import functional_call, jvp

__all__ = ["Linearized"]


class Linearized(nn.Module):
    """g_lin(z; θ) = g_{θ0}(z) + J_{θ0}(z)(θ − θ0), computed with one ``torch.func.jvp``.

    Its NTK is k_{g_{θ0}} for every θ: trained as an Int-PM it follows the Stein flow of Eq. 18
    with the frozen kernel exactly. The parameters θ start at θ0 (a copy of the model's).
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        names, tensors = zip(*[(k, v.detach().clone()) for k, v in model.named_parameters()])
        self._names = list(names)
        self._theta0 = [t.clone() for t in tensors]
        self.theta = nn.ParameterList([nn.Parameter(t) for t in tensors])
        object.__setattr__(self, "_base", model)  # not a submodule: its parameters stay θ0
        self._buffers_of_base = {k: v for k, v in model.named_buffers()}

    def theta0(self) -> dict[str, Tensor]:
        return dict(zip(self._names, self._theta0))

    def forward(self, z: Tensor) -> Tensor:
        p0 = self.theta0()
        tangent = {n: p - p0[n] for n, p in zip(self._names, self.theta)}

        def f(params):
            return functional_call(self._base, (params, self._buffers_of_base), (z,))

        out, dout = jvp(f, (p0,), (tangent,))
        return out + dout

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self._theta0 = [fn(t) for t in self._theta0]
        self._base._apply(fn)
        self._buffers_of_base = {k: v for k, v in self._base.named_buffers()}
        return self
