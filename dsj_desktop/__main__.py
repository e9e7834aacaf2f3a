import sys

from dsj_desktop.cli import main

sys.exit(main())
