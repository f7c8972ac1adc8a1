from bench.tagging import main

raise SystemExit(main())
