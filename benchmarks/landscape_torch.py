# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The spectral tools against PyHessian (PyTorch): same weights, same data, one process.

    pip install torch==2.13.0 pyhessian      # the `compare` extra (a CPU build of PyTorch)
    python benchmarks/landscape_torch.py [--threads 1] [--repeats 3] [--models mlp,cnn,big]

Three networks on 512 of the bundled real MNIST digits, float32, cross-entropy: an MLP
784-64-10 (50,890 parameters), a CNN (two 3x3 convolutions with 16 and 32 channels, average
pooling, a dense layer: 20,490) and an MLP 784-1024-256-10 (1,068,810). Both frameworks get the
same weights (the JAX arrays copied into the `torch.nn.Module`; the CNN is NCHW/OIHW on both
sides). Per network and per tool the median wall time of `--repeats` calls, the frameworks
alternated call by call (a call under 50 ms is timed as the mean of as many back-to-back calls
as last 50 ms, the same count for the three, so a one-millisecond product is not one noisy
sample):

* one Hessian-vector product: ours `hessian_operator(loss, params, batches)(v)` (jitted) against
  PyHessian's `hessian_vector_product` on its retained graph (one double-backward);
* top-5 eigenvalues: ours `top_eigenvalues(op, like, key, k=5)` (Lanczos to rtol 1e-4) against
  PyHessian's `eigenvalues(top_n=5)` (power iteration with deflation, tol 1e-3, at most 100
  iterations per eigenvalue), with both largest eigenvalues and the HVPs each used;
* trace: PyHessian's `trace()` (Hutchinson until a relative change of the running mean below
  1e-3, at most 100 samples) against ours, `hutchinson_trace` with as many samples as PyHessian's
  calls used (the median count of three untimed calls: the same estimator on the same budget),
  with the HVPs each used; for the small MLP also the exact trace (one product per standard
  basis vector, untimed) and each estimate's relative error;
* density: ours `spectral_density(num_probes=1, num_steps=100)` against PyHessian's
  `density(iter=100, n_v=1)`: 100 Lanczos steps on one probe, ours at its default (the
  three-term recurrence: the quadrature does not need an orthogonal basis), and as
  `density_reorth` with full reorthogonalisation, as PyHessian does (the same work).

Ours is timed jitted (a function of the parameters and the data) and eagerly (a new
`hessian_operator` per call, after a first call that compiles); the table gives PyHessian's time over ours for both
(> 1: ours faster), and the same ratio per HVP (PyHessian's trace stops at its tolerance after
a varying number of samples, counted in each timed call). Our product recomputes the
linearisation (forward, backward, tangent) at every call; PyHessian's reuses the graph it
retained at construction (that forward and backward are not timed). On CPU, XLA runs a
convolution inside a loop body (every estimator's Lanczos or Hutchinson loop) on a naive loop
nest unless it is in the NHWC/HWIO layout (jax-ml/jax#12868); the library's products therefore
compute their convolutions in that layout (`canonical_convolutions`), and the CNN runs every
tool (`--cnn-tools` restricts it).
`--threads 1` pins both frameworks to one thread (XLA's CPU flags are set before JAX starts);
the default leaves both at their defaults. XLA's CPU backend runs a convolution on one thread
(its process time equals its wall time, where a matrix product uses every core), while
PyTorch's oneDNN uses all of them: `--devices 2` splits the CPU into two XLA devices
(`--xla_force_host_platform_device_count`) and shards the batch across them (the parameters
replicated), so that each core runs half of every convolution, as a user with `jax.sharding`
would; PyTorch keeps its default threads. hessian-eigenthings, the other
tool the issue names, is not on PyPI and is not compared.

The records `benchmarks/results/landscape_torch_cpu.txt` (default threads),
`landscape_torch_1thread_cpu.txt` and `landscape_torch_2devices_cpu.txt` are this script's
output.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="0: each framework's default")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--devices", type=int, default=1,
                        help="split the CPU into this many XLA devices and shard the batch")
    parser.add_argument("--models", default="mlp,cnn,big")
    parser.add_argument("--tools", default="hvp,top5,trace,density,density_reorth",
                        help="per network, e.g. cnn=hvp,top5 to restrict one network")
    parser.add_argument("--cnn-tools", default="hvp,top5,trace,density,density_reorth",
                        help="the CNN's tools")
    return parser.parse_args(argv)


ARGS = _parse(sys.argv[1:] if __name__ == "__main__" else [])
if ARGS.threads:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen="
                               "false intra_op_parallelism_threads=1").strip()
if ARGS.devices > 1:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_"
                               f"device_count={ARGS.devices}").strip()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from complexity_optax import datasets, landscape  # noqa: E402


def _dense(key, n_in, n_out):
    return {"w": jax.random.normal(key, (n_in, n_out)) / np.sqrt(n_in), "b": jnp.zeros(n_out)}


def _conv(key, c_in, c_out):  # OIHW, as torch
    return {"w": jax.random.normal(key, (c_out, c_in, 3, 3)) / np.sqrt(9 * c_in),
            "b": jnp.zeros(c_out)}


def mlp_params(widths, key):
    keys = jax.random.split(key, len(widths) - 1)
    return [_dense(k, a, b) for k, a, b in zip(keys, widths[:-1], widths[1:], strict=True)]


def mlp_logits(params, x):
    h = x.reshape(x.shape[0], -1)
    for layer in params[:-1]:
        h = jnp.tanh(h @ layer["w"] + layer["b"])
    return h @ params[-1]["w"] + params[-1]["b"]


def cnn_params(key):
    k1, k2, k3 = jax.random.split(key, 3)
    return [_conv(k1, 1, 16), _conv(k2, 16, 32), _dense(k3, 32 * 7 * 7, 10)]


def _pool(h):  # 2x2 average pooling, NCHW
    n, c, height, width = h.shape
    return h.reshape(n, c, height // 2, 2, width // 2, 2).mean(axis=(3, 5))


def cnn_logits(params, x):
    h = x
    for layer in params[:2]:
        h = jax.lax.conv_general_dilated(h, layer["w"], (1, 1), ((1, 1), (1, 1)),
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        h = _pool(jax.nn.relu(h + layer["b"][None, :, None, None]))
    return h.reshape(h.shape[0], -1) @ params[2]["w"] + params[2]["b"]


MODELS = {
    "mlp": ("MLP 784-64-10", lambda key: mlp_params((784, 64, 10), key), mlp_logits),
    "cnn": ("CNN 16-32 conv", cnn_params, cnn_logits),
    "big": ("MLP 784-1024-256-10", lambda key: mlp_params((784, 1024, 256, 10), key),
            mlp_logits),
}


def torch_model(name, params):
    """The same network in PyTorch, with `params` copied in."""
    import torch

    def tensor(a):
        return torch.tensor(np.asarray(a))

    if name == "cnn":
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AvgPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 10))
        layers = [model[0], model[3], model[7]]
        with torch.no_grad():
            for layer, p in zip(layers[:2], params[:2], strict=True):
                layer.weight.copy_(tensor(p["w"]))
                layer.bias.copy_(tensor(p["b"]))
            layers[2].weight.copy_(tensor(params[2]["w"]).T)
            layers[2].bias.copy_(tensor(params[2]["b"]))
        return model
    modules = [torch.nn.Flatten()]
    for i, p in enumerate(params):
        linear = torch.nn.Linear(*p["w"].shape)
        with torch.no_grad():
            linear.weight.copy_(tensor(p["w"]).T)
            linear.bias.copy_(tensor(p["b"]))
        modules.append(linear)
        if i < len(params) - 1:
            modules.append(torch.nn.Tanh())
    return torch.nn.Sequential(*modules)


def _removed(fn):
    try:
        fn(__import__("torch").eye(1), eigenvectors=True)
    except RuntimeError:
        return True
    return False


def _eig_shim(a, eigenvectors=False):
    """`torch.eig`'s old return for a symmetric matrix (PyHessian's T): eigenvalues as (n, 2)
    real/imaginary columns, and the eigenvectors; `torch.linalg.eigh` computes them."""
    import torch

    values, vectors = torch.linalg.eigh(a)
    return torch.stack([values, torch.zeros_like(values)], dim=1), vectors


def _mesh():
    return jax.make_mesh((len(jax.devices()),), ("batch",),
                         axis_types=(jax.sharding.AxisType.Auto,))


def _sharded(a):
    """`a` split along its first (batch) axis over the CPU devices (`--devices`)."""
    if ARGS.devices <= 1:
        return a
    return jax.device_put(a, jax.sharding.NamedSharding(_mesh(), jax.sharding.PartitionSpec(
        "batch")))


def _replicated(tree):
    if ARGS.devices <= 1:
        return tree
    return jax.device_put(tree, jax.sharding.NamedSharding(_mesh(),
                                                           jax.sharding.PartitionSpec()))


def _mean_of(fn, calls):
    """Seconds per call of `calls` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def exact_trace(op, like):
    """tr(H) as the sum of e_i^T H e_i over the standard basis (one product per parameter)."""
    from complexity_optax.landscape.spectral.diagonal_share import basis_vector_like

    n = sum(leaf.size for leaf in jax.tree.leaves(like))

    def entry(i):
        e = basis_vector_like(i, like)
        return sum(jnp.vdot(a, b) for a, b in zip(jax.tree.leaves(e), jax.tree.leaves(op(e)),
                                                   strict=True))

    diagonal = jax.jit(lambda idx: jax.lax.map(entry, idx, batch_size=256))(jnp.arange(n))
    return float(jnp.sum(diagonal))


def compare(name, x, y, repeats, tool_names):
    """Rows `(tool, torch s, jitted s, eager s, detail)` for one network."""
    import pyhessian
    import torch

    # The module (its name is shadowed by the class `pyhessian.hessian`): its HVPs are counted.
    pyhessian_hessian = sys.modules["pyhessian.hessian"]
    if not hasattr(torch, "eig") or _removed(torch.eig):
        torch.eig = _eig_shim  # PyHessian 0.1's density calls torch.eig, removed in torch 1.9

    title, init, logits_fn = MODELS[name]
    params = _replicated(init(jax.random.key(0)))

    def loss(p, xb, yb):
        logits = logits_fn(p, xb)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], axis=1))

    n = sum(leaf.size for leaf in jax.tree.leaves(params))
    model = torch_model(name, params)
    tx, ty = torch.tensor(np.asarray(x)), torch.tensor(np.asarray(y)).long()
    with torch.no_grad():  # the same network: the same loss at the same weights
        torch_loss = float(torch.nn.functional.cross_entropy(model(tx), ty))
    assert abs(torch_loss - float(loss(params, x, y))) <= 1e-4 * abs(torch_loss), name
    hess = pyhessian.hessian(model, torch.nn.CrossEntropyLoss(), data=(tx, ty), cuda=False)
    counter = [0]
    original = pyhessian_hessian.hessian_vector_product

    def counted(*a):
        counter[0] += 1
        return original(*a)

    pyhessian_hessian.hessian_vector_product = counted
    key = jax.random.key(1)
    v = jax.tree.map(jnp.ones_like, params)
    tv = [torch.ones_like(p) for p in hess.params]

    # The trace at PyHessian's budget: the median number of samples its trace() used.
    trace_counts = []
    for _ in range(3):
        counter[0] = 0
        hess.trace()
        trace_counts.append(counter[0])
    trace_samples = max(int(statistics.median(trace_counts)), 1)

    def tools(p, key, xb, yb):  # the data as arguments: a closed-over array loses its sharding
        op = landscape.hessian_operator(loss, p, [(xb, yb)])
        top = landscape.top_eigenvalues(op, p, key, k=5)
        return {"hvp": op(v),
                "top5": (top.eigenvalues, top.num_steps),
                "trace": landscape.hutchinson_trace(op, p, key,
                                                    num_samples=trace_samples).estimate,
                "density": landscape.spectral_density(op, p, key, num_probes=1,
                                                      num_steps=100).density,
                "density_reorth": landscape.spectral_density(
                    op, p, key, num_probes=1, num_steps=100, reorthogonalize=True).density}

    torch_tools = {
        "hvp": lambda: original(hess.gradsH, hess.params, tv),
        "top5": lambda: hess.eigenvalues(top_n=5),
        "trace": lambda: hess.trace(),
        "density": lambda: hess.density(iter=100, n_v=1),
        "density_reorth": lambda: hess.density(iter=100, n_v=1),
    }
    rows = []
    for tool in tool_names:
        jitted = jax.jit(lambda p, key, xb, yb, tool=tool: tools(p, key, xb, yb)[tool])

        def eager(p, key, tool=tool):
            op = landscape.hessian_operator(loss, p, [(x, y)])  # a new operator every call
            if tool == "hvp":
                return op(v)
            if tool == "top5":
                top = landscape.top_eigenvalues(op, p, key, k=5)
                return top.eigenvalues, top.num_steps
            if tool == "trace":
                return landscape.hutchinson_trace(op, p, key, num_samples=trace_samples).estimate
            return landscape.spectral_density(op, p, key, num_probes=1, num_steps=100,
                                              reorthogonalize=tool == "density_reorth").density

        ours = jax.block_until_ready(jitted(params, key, x, y))  # compile
        jax.block_until_ready(eager(params, key))  # the first eager call compiles
        start = time.perf_counter()
        theirs = torch_tools[tool]()
        # A call under 50 ms is timed as the mean of enough back-to-back calls to last 50 ms
        # (the same count for all three), so that a 1 ms product is not one noisy sample.
        inner = max(1, min(100, int(0.05 / max(time.perf_counter() - start, 1e-4))))
        t_torch, t_jit, t_eager, torch_counts = [], [], [], []
        for i in range(repeats):  # alternated
            counter[0] = 0
            t_torch.append(_mean_of(torch_tools[tool], inner))
            torch_counts.append(max(counter[0] // inner, 1))  # the bare product is not counted
            t_jit.append(_mean_of(lambda f=jitted: jax.block_until_ready(f(params, key, x, y)),
                                  inner))
            p_i = jax.tree.map(lambda a, i=i: a * (1.0 + 1e-6 * (i + 1)), params)
            t_eager.append(_mean_of(lambda p_i=p_i: jax.block_until_ready(eager(p_i, key)),
                                    inner))
        # top-5: + 5 residual products
        ours_hvps = {"hvp": 1, "top5": int(ours[1]) + 5 if tool == "top5" else 0,
                     "trace": trace_samples, "density": 100, "density_reorth": 100}[tool]
        torch_per_hvp = statistics.median(t / c for t, c in zip(t_torch, torch_counts,
                                                                  strict=True))
        per_hvp = torch_per_hvp / (statistics.median(t_jit) / ours_hvps)
        detail = f"HVPs {ours_hvps} vs {statistics.median(torch_counts):g}"
        if tool == "top5":
            detail += f"; lambda_max {float(ours[0][0]):.4g} vs {float(theirs[0][0]):.4g}"
        elif tool == "trace":
            detail += f"; trace {float(ours):.4g} vs {float(np.mean(theirs)):.4g}"
            if n < 60_000 and name != "cnn":  # the CNN's 20,490 products: minutes, GiBs
                exact = exact_trace(landscape.hessian_operator(loss, params, [(x, y)]), params)
                detail += (f" (exact {exact:.4g}: errors {abs(float(ours) - exact) / exact:.0%} "
                           f"vs {abs(float(np.mean(theirs)) - exact) / exact:.0%})")
        rows.append((tool, statistics.median(t_torch), statistics.median(t_jit),
                     statistics.median(t_eager), per_hvp, detail))
    pyhessian_hessian.hessian_vector_product = original
    return title, n, rows


def main() -> None:
    import torch

    if ARGS.threads:
        torch.set_num_threads(ARGS.threads)
    data = datasets.load_mnist()
    x = _sharded(jnp.asarray(data.x_train[:512].reshape(512, 1, 28, 28), jnp.float32))
    y = _sharded(jnp.asarray(data.y_train[:512]))
    print(f"jax {jax.__version__} ({jax.devices()[0].platform}), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), pyhessian 0.1; threads: "
          f"{ARGS.threads or 'defaults'}; batch 512 MNIST digits; medians of {ARGS.repeats}"
          + (f"; ours on {len(jax.devices())} CPU devices, the batch sharded across them"
             if ARGS.devices > 1 else ""))
    print(f"{'network':22s} {'params':>10s} {'tool':14s} {'PyHessian s':>12s} {'ours jit s':>11s} "
          f"{'ours eager s':>13s} {'PyH/jit':>8s} {'PyH/eager':>10s} {'per HVP':>10s}  detail")
    for name in ARGS.models.split(","):
        tools = (ARGS.cnn_tools if name == "cnn" else ARGS.tools).split(",")
        title, n, rows = compare(name, x, y, ARGS.repeats, tools)
        for tool, t_torch, t_jit, t_eager, per_hvp, detail in rows:
            print(f"{title:22s} {n:10,d} {tool:14s} {t_torch:12.4f} {t_jit:11.4f} "
                  f"{t_eager:13.4f} {t_torch / t_jit:8.2f} {t_torch / t_eager:10.2f} "
                  f"{per_hvp:10.2f}  {detail}", flush=True)


if __name__ == "__main__":
    main()
