# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Complexity gradient descent (Richemond & Guo 2019): annealed weight decay on the N-sphere.

`schedules` (step-count λ schedules), `matched` (the loss-matched stateful schedule),
`strength` (schedule plumbing), `weight_decay` (the annealed penalty), `two_step`
(Algorithm 3), `sphere` (projection onto the N-sphere) and `complexity_sgd` (the chain).
"""
