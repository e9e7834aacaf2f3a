"""dsj-desktop: 双随机、一公开 supervision for a county emergency-management bureau.

Everything outside :mod:`dsj_desktop.ui` is Qt-free core code.
"""

__version__ = "0.1.0"
APP_NAME = "dsj-desktop"
APP_TITLE = "双随机一公开抽查工作台"
