# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Loss-landscape geometry: slices along directions, interpolation, mode-connecting curves."""
