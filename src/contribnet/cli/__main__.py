from contribnet.cli import main

raise SystemExit(main())
