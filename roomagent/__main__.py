from roomagent.cli.main import main

raise SystemExit(main())
