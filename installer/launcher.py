"""PyInstaller's entry script for dsj-desktop: the same as ``python -m dsj_desktop``.

Without a subcommand the program starts the Qt GUI; with one it runs the command line.
"""

import sys

from dsj_desktop.launch import main

if __name__ == "__main__":
    sys.exit(main())
