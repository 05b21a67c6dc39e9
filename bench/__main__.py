"""``python -m bench [--quick] [--only NAME[,NAME]]``."""

from bench.runner import main

raise SystemExit(main())
