"""``python -m watcher.notify docs/alerts.md`` regenerates the message examples in the docs."""

from watcher.notify.docs import main

raise SystemExit(main())
