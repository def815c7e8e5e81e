# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproducing Richemond & Guo (2019): weight-decay annealing
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/complexity-optax/complexity_optax/blob/main/notebooks/08_reproduce_richemond2019.ipynb)
#
# The paper proposes annealing the strength $\lambda$ of the L2 penalty (matched to the loss, cosine, two-step, matched to the learning rate) but publishes no experiment. This one trains the ConvNet with each scheme, and with no or constant weight decay, on and off the sphere.
#
# This notebook does not train anything: it reads the JSON record that
# `python -m complexity_optax reproduce richemond2019` saved under `benchmarks/results/`
# (the `full` GPU record if there is one, else the `cpu` one, else the `quick` one; records made
# before the current protocol, which carry no `protocol_version`, are skipped), prints its
# tables and verdicts and redraws its figure. To produce a record yourself:
#
# ```bash
# python -m complexity_optax reproduce richemond2019 --quick        # CI smoke test, ~1 minute
# python -m complexity_optax reproduce richemond2019                # the CPU mode (2 cores, < 30 min)
# python -m complexity_optax reproduce richemond2019 --scale full   # sized for one GPU
# ```

# %%
# In Colab: installs the package and clones the repository for its saved records
# (benchmarks/results), then works from its notebooks/ folder. Does nothing anywhere else.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    REPO = "https://github.com/complexity-optax/complexity_optax"
    subprocess.run(["git", "clone", "-q", "--depth", "1", REPO, "/content/complexity_optax"],
                   check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "/content/complexity_optax[demo,data]"], check=True)
    os.chdir("/content/complexity_optax/notebooks")

# %%
import json
import os
import pathlib
import tempfile

from IPython.display import Image, Markdown, display

from complexity_optax.demo import reproduce
from complexity_optax.demo.reproduce import richemond2019 as experiment

RESULTS = pathlib.Path("..") / "benchmarks" / "results"
record, source = None, None
for mode in ("full", "cpu", "quick"):
    path = RESULTS / f"reproduce_richemond2019_{mode}.json"
    if path.exists() and "protocol_version" in json.loads(path.read_text()):
        record, source = json.loads(path.read_text()), path
        break
if record is None:  # no saved record: make a quick one (about a minute)
    import argparse

    out = tempfile.mkdtemp()
    parser = argparse.ArgumentParser()
    reproduce.add_arguments(parser)
    reproduce.run(parser.parse_args(["richemond2019", "--quick", "--no-progress", "--output-dir", out]))
    source = pathlib.Path(out) / "reproduce_richemond2019_quick.json"
    record = json.loads(source.read_text())
display(Markdown(
    f"Record `{source.name}`: **{record['mode']} mode**, {record['seeds']} seed(s), "
    f"{record['wall_s']} s on {record['platform']['backend']} "
    f"({record['platform']['cpu_count']} CPUs)."
    + (" Quick mode is a smoke test on tiny subsets, not the paper-scale result."
       if record["mode"] == "quick" else "")))

# %% [markdown]
# ## Results (mean and 95% interval over seeds) and verdicts
#
# Each verdict compares two methods on the paired per-seed differences (same initialisation,
# data order and validation split per seed): it holds or fails when the 95% interval of the
# difference lies on one side of zero, and is inconclusive otherwise (or when a run was not a
# valid measurement). The protocol is described in `complexity_optax/demo/reproduce/protocol.py`.

# %%
text = reproduce.format_markdown(record)
display(Markdown(text.split("\n", 1)[1]))  # without the title line

# %% [markdown]
# ## Figure
#
# Training loss, test accuracy and $\lambda$ over epochs; top row off the sphere, bottom row on it.

# %%
figdir = os.environ.get("COMPLEXITY_OPTAX_FIGDIR") or tempfile.mkdtemp()
paths = experiment.plot(record, os.path.join(figdir, "08_reproduce_richemond2019"))
display(Image(filename=paths[0]))

# %% [markdown]
# ## What was changed from the paper
#
# The record lists every deviation from the paper's protocol (data size, missing pieces of the
# authors' code, choices where the paper could not be read).

# %%
display(Markdown("\n".join(f"- {d}" for d in record.get("deviations", []))))
