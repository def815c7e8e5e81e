# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Shared helpers, one home each: validation (`checks`), random draws (`draws`), the SGD step."""
