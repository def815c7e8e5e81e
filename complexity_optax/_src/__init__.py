# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Private implementation modules; the public API is re-exported from `complexity_optax`."""
