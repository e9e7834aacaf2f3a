import sys

from dsj_desktop.launch import main

sys.exit(main())
