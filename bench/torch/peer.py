"""PyTorch (CPU, eager) peers of the sgbayes benchmark cases.

Run by bench/run.js as a long-lived child process speaking one JSON object per line:
  {"cmd": "info", "threads": T}                  -> {"torch": version, "threads": T}
  {"cmd": "setup", "case": name, "params": {...}} -> {"ok": true}
  {"cmd": "time", "case": name}                   -> {"ms": per-unit milliseconds, "units": n}
Each case builds the same problem as the sgbayes side from the binary files the runner wrote
(little-endian float64 / int32), and times a block of work with time.perf_counter.
"""
import json
import math
import sys
import time

import numpy as np
import torch


def blas_library():
    """The BLAS shared object this process mapped (Debian's torch uses whatever libblas.so.3 points to)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
        return ", ".join(sorted(paths)) or "unknown"
    except OSError:
        return "unknown"


def load(path, dtype, shape):
    return torch.from_numpy(np.fromfile(path, dtype=dtype).reshape(shape).copy())


class SgldLogistic:
    """SGLD (Welling & Teh 2011, Eq. 4) on Bayesian logistic regression, one step per batch."""

    def __init__(self, p):
        n, d = p["rows"], p["features"]
        self.x = load(p["x"], "<f8", (n, d))
        self.y = load(p["y"], "<f8", (n,))
        self.batches = load(p["batches"], "<i4", (-1, p["batchSize"])).long()
        self.n, self.eps, self.lam = n, p["stepSize"], p["priorPrecision"]
        self.theta = torch.zeros(d + 1, dtype=torch.float64, requires_grad=True)
        self.steps, self.t = p["steps"], 0

    def block(self):
        theta, x, y = self.theta, self.x, self.y
        scale = self.n / self.batches.shape[1]
        noise_sd = math.sqrt(self.eps)
        for _ in range(self.steps):
            idx = self.batches[self.t % self.batches.shape[0]]
            self.t += 1
            xb, yb = x[idx], y[idx]
            z = xb @ theta[:-1] + theta[-1]
            log_lik = (yb * z - torch.nn.functional.softplus(z)).sum()
            log_post = -0.5 * self.lam * (theta * theta).sum() + scale * log_lik
            (grad,) = torch.autograd.grad(log_post, theta)
            with torch.no_grad():
                theta.add_(0.5 * self.eps * grad + noise_sd * torch.randn_like(theta))
        return self.steps


class ConstantSgdFull:
    """Constant SGD on linear regression with the online noise covariance and, after the warm-up,
    the full optimal preconditioner H* = (2S/N) C⁻¹ (Mandt, Hoffman & Blei 2017, Thm 2, Eq. 21)."""

    def __init__(self, p):
        n, d = p["rows"], p["features"]
        x = load(p["x"], "<f8", (n, d))
        self.x = torch.cat([x, torch.ones(n, 1, dtype=torch.float64)], dim=1)
        self.y = load(p["y"], "<f8", (n,))
        self.batches = load(p["batches"], "<i4", (-1, p["batchSize"])).long()
        self.p = p

    def block(self):
        p, x, y = self.p, self.x, self.y
        n, q = x.shape
        s = self.batches.shape[1]
        lam, tau, rate, warmup = p["priorPrecision"], p["noisePrecision"], p["rate"], p["warmup"]
        theta = torch.zeros(q, dtype=torch.float64, requires_grad=True)
        cov = torch.zeros(q, q, dtype=torch.float64)
        h = None
        mean_grad = None
        for t in range(p["steps"]):
            idx = self.batches[t % self.batches.shape[0]]
            xb, yb = x[idx], y[idx]
            if t < warmup:
                with torch.no_grad():
                    per_example = (tau * (yb - xb @ theta)).unsqueeze(1) * xb
                    centred = per_example - per_example.mean(0)
                    kappa = max(1.0 / (t + 1), 1e-3)
                    cov.mul_(1 - kappa).add_(centred.T @ centred, alpha=kappa / (s - 1))
            elif h is None:
                values, vectors = torch.linalg.eigh(cov)
                values = values.clamp(min=1e-8 * values.max())
                h = (2 * s / n) * (vectors / values) @ vectors.T
            resid = yb - xb @ theta
            log_post = -0.5 * lam * (theta * theta).sum() + (n / s) * (-0.5 * tau * (resid * resid).sum())
            loss = -log_post / n
            (grad,) = torch.autograd.grad(loss, theta)
            with torch.no_grad():
                mean_grad = grad.clone() if mean_grad is None else 0.99 * mean_grad + 0.01 * grad
                theta.sub_(rate * grad if h is None else h @ grad)
        return p["steps"]


class LogisticGradient:
    """Full-batch log posterior and gradient of logistic regression (the gradient NUTS evaluates)."""

    def __init__(self, p):
        n, d = p["rows"], p["features"]
        self.x = load(p["x"], "<f8", (n, d))
        self.y = load(p["y"], "<f8", (n,))
        self.lam, self.evals = p["priorPrecision"], p["evals"]
        self.theta = torch.full((d + 1,), 0.01, dtype=torch.float64, requires_grad=True)

    def block(self):
        theta, x, y = self.theta, self.x, self.y
        for _ in range(self.evals):
            z = x @ theta[:-1] + theta[-1]
            log_post = -0.5 * self.lam * (theta * theta).sum() + (y * z - torch.nn.functional.softplus(z)).sum()
            torch.autograd.grad(log_post, theta)
        return self.evals


class MvgVi:
    """One epoch of matrix-variate Gaussian VI (Louizos & Welling 2016) with local
    reparameterisation, a Gamma posterior on the noise precision, and Adam, as src/vi."""

    def __init__(self, p):
        n, d = p["rows"], p["features"]
        self.x = load(p["x"], "<f8", (n, d))
        self.y = load(p["y"], "<f8", (n,))
        self.order = load(p["order"], "<i4", (-1,)).long()
        self.p = p
        sizes = [d] + p["hidden"] + [1]
        self.layers = []
        g = torch.Generator().manual_seed(0)
        for r_in, c in zip(sizes[:-1], sizes[1:]):
            r = r_in + 1
            scale = 1 / math.sqrt(r)
            mean = torch.randn(r, c, generator=g, dtype=torch.float64) * math.sqrt(2 / r) / scale
            mean[-1] = 0
            half = 0.5 * math.log(0.01)
            layer = [mean, torch.full((r,), half, dtype=torch.float64), torch.full((c,), half, dtype=torch.float64),
                     torch.tensor([0.0, math.log(0.5), 0.0, math.log(0.5)], dtype=torch.float64)]
            self.layers.append((scale, [t.requires_grad_() for t in layer]))
        self.noise = torch.tensor([math.log(6.0), math.log(6.0)], dtype=torch.float64, requires_grad=True)
        params = [t for _, ls in self.layers for t in ls] + [self.noise]
        self.opt = torch.optim.Adam(params, lr=1e-3)
        self.params = params
        self.average = [torch.zeros_like(t) for t in params]

    @staticmethod
    def gamma_kl(a, b, a0, b0):
        return ((a - a0) * torch.digamma(a) - torch.lgamma(a) + math.lgamma(a0) + a0 * (torch.log(b) - math.log(b0))
                + a * (b0 - b) / b)

    def elbo(self, xb, yb, n):
        h = xb
        kl = 0.0
        for i, (scale, (mean, log_u, log_v, gam)) in enumerate(self.layers):
            a_bar = torch.cat([h, torch.ones(h.shape[0], 1, dtype=torch.float64)], dim=1) * scale
            m = a_bar @ mean
            sd_row = torch.sqrt((a_bar * a_bar) @ torch.exp(log_u))
            z = m + sd_row.unsqueeze(1) * torch.exp(0.5 * log_v) * torch.randn_like(m)
            h = torch.relu(z) if i + 1 < len(self.layers) else z
            ar, br, ac, bc = torch.exp(gam[0]), torch.exp(gam[1]), torch.exp(gam[2]), torch.exp(gam[3])
            r, c = mean.shape
            e = (ar / br) * (ac / bc)
            elog = torch.digamma(ar) - torch.log(br) + torch.digamma(ac) - torch.log(bc)
            kl = kl + 0.5 * (e * torch.exp(log_u).sum() * torch.exp(log_v).sum() + e * (mean * mean).sum() - r * c
                             - r * c * elog - c * log_u.sum() - r * log_v.sum())
            kl = kl + self.gamma_kl(ar, br, 1.0, 0.5) + self.gamma_kl(ac, bc, 1.0, 0.5)
        a, b = torch.exp(self.noise[0]), torch.exp(self.noise[1])
        f = h.squeeze(1)
        ell = 0.5 * (torch.digamma(a) - torch.log(b)) - 0.5 * math.log(2 * math.pi) - 0.5 * (a / b) * (yb - f) ** 2
        kl = kl + self.gamma_kl(a, b, 6.0, 6.0)
        return ell.mean() - kl / n

    def block(self):
        n, s = self.x.shape[0], self.p["batchSize"]
        steps = n // s
        for b in range(steps):
            idx = self.order[b * s:(b + 1) * s]
            loss = -self.elbo(self.x[idx], self.y[idx], n)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            with torch.no_grad():
                for avg, t in zip(self.average, self.params):
                    avg.mul_(0.999).add_(t, alpha=0.001)
        return 1


class MlpStep:
    """One SGD training step of a ReLU network (softmax output, Gaussian prior) at a batch."""

    def __init__(self, p):
        dtype = torch.float32 if p["precision"] == "float32" else torch.float64
        sizes, batch = p["sizes"], p["batchSize"]
        g = torch.Generator().manual_seed(0)
        self.x = torch.rand(batch, sizes[0], generator=g).to(dtype)
        self.y = torch.randint(0, sizes[-1], (batch,), generator=g)
        self.weights = []
        for r_in, c in zip(sizes[:-1], sizes[1:]):
            w = (torch.randn(r_in + 1, c, generator=g) * math.sqrt(2 / (r_in + 1))).to(dtype)
            self.weights.append((1 / math.sqrt(r_in + 1), w.requires_grad_()))
        self.steps, self.lr, self.lam = p["steps"], p["learningRate"], p["priorPrecision"]

    def block(self):
        for _ in range(self.steps):
            h = self.x
            for i, (scale, w) in enumerate(self.weights):
                a_bar = torch.cat([h, torch.ones(h.shape[0], 1, dtype=h.dtype)], dim=1) * scale
                z = a_bar @ w
                h = torch.relu(z) if i + 1 < len(self.weights) else z
            log_lik = -torch.nn.functional.cross_entropy(h, self.y, reduction="sum")
            log_post = log_lik - 0.5 * self.lam * sum((w * w).sum() for _, w in self.weights)
            grads = torch.autograd.grad(log_post, [w for _, w in self.weights])
            with torch.no_grad():
                for (_, w), gw in zip(self.weights, grads):
                    w.add_(gw, alpha=self.lr)
        return self.steps


class Matmul:
    """A plain (m×k)(k×n) product, for GFLOP/s at the network's layer shapes."""

    def __init__(self, p):
        dtype = torch.float32 if p["precision"] == "float32" else torch.float64
        self.a = torch.rand(p["m"], p["k"], dtype=dtype)
        self.b = torch.rand(p["k"], p["n"], dtype=dtype)
        self.out = torch.empty(p["m"], p["n"], dtype=dtype)
        self.reps = p["reps"]

    def block(self):
        for _ in range(self.reps):
            torch.matmul(self.a, self.b, out=self.out)
        return self.reps


CASES = {
    "matmul": Matmul,
    "sgld-logistic": SgldLogistic,
    "constant-sgd-full": ConstantSgdFull,
    "logistic-gradient": LogisticGradient,
    "mvg-vi": MvgVi,
    "mlp-step": MlpStep,
}


def main():
    torch.manual_seed(0)
    cases = {}
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            if msg["cmd"] == "info":
                torch.set_num_threads(int(msg["threads"]))
                torch.set_num_interop_threads(1)
                reply = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library()}
            elif msg["cmd"] == "setup":
                cases[msg["id"]] = CASES[msg["case"]](msg["params"])
                reply = {"ok": True}
            elif msg["cmd"] == "time":
                start = time.perf_counter()
                units = cases[msg["id"]].block()
                reply = {"ms": (time.perf_counter() - start) * 1000 / units, "units": units}
            elif msg["cmd"] == "drop":
                cases.pop(msg["id"], None)
                reply = {"ok": True}
            else:
                reply = {"error": f"unknown command {msg['cmd']}"}
        except Exception as error:  # report to the runner instead of dying mid-protocol
            reply = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
