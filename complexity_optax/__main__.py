# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""`python -m complexity_optax`: the command-line interface."""

from complexity_optax.demo.cli import main

raise SystemExit(main())
