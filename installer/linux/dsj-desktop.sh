#!/bin/sh
# /usr/bin/dsj-desktop: starts the program installed in /opt/dsj-desktop (package dsj-desktop).
# Without arguments it opens the window; with a subcommand it is the command line (dsj-desktop --help).
#
# The first time the window is opened, a shortcut is put on the user's desktop (the Linux counterpart
# of the Windows installer's desktop shortcut); deleting it is remembered.  DSJ_NO_DESKTOP_ICON=1
# turns this off.
APP=/opt/dsj-desktop/dsj-desktop
ENTRY=/usr/share/applications/dsj-desktop.desktop

desktop_icon() {
    [ -n "${HOME:-}" ] && [ -z "${DSJ_NO_DESKTOP_ICON:-}" ] && [ -r "$ENTRY" ] || return 0
    marker="${XDG_CONFIG_HOME:-$HOME/.config}/dsj-desktop/desktop-icon-created"
    [ -e "$marker" ] && return 0
    desk=$(xdg-user-dir DESKTOP 2>/dev/null) || desk=
    if [ -z "$desk" ] || [ "$desk" = "$HOME" ] || [ ! -d "$desk" ]; then
        for d in "$HOME/桌面" "$HOME/Desktop"; do [ -d "$d" ] && desk=$d && break; done
    fi
    if [ -n "$desk" ] && [ -d "$desk" ] && [ "$desk" != "$HOME" ]; then
        if [ ! -e "$desk/dsj-desktop.desktop" ] && cp "$ENTRY" "$desk/dsj-desktop.desktop" 2>/dev/null; then
            chmod 755 "$desk/dsj-desktop.desktop"
            # GNOME-based desktops only start desktop files marked trusted.
            gio set "$desk/dsj-desktop.desktop" metadata::trusted true >/dev/null 2>&1 || true
        fi
    fi
    mkdir -p "${marker%/*}" 2>/dev/null && : >"$marker" 2>/dev/null
    return 0
}

if [ $# -eq 0 ]; then
    desktop_icon
fi
exec "$APP" "$@"
