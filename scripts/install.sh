#!/usr/bin/env bash
# Installs tuned as a systemd service (or removes it with --uninstall). Idempotent.
#
#   sudo scripts/install.sh && sudo systemctl enable --now tuned
#   sudo scripts/install.sh --uninstall
#
# What goes where (PREFIX defaults to /usr/local; ROOT, for packaging or tests, to /):
#   ROOT/PREFIX/bin/{tuned,tunectl}            release build (swift build -c release)
#   ROOT/PREFIX/share/tuned/policies/          the repository's policies/ (if any)
#   ROOT/PREFIX/share/doc/tuned/               README.md and docs/
#   ROOT/etc/systemd/system/tuned.service      scripts/tuned.service (ExecStart under PREFIX)
#   ROOT/etc/systemd/system/tuned.service.d/   drop-ins: writable-paths.conf (ReadWritePaths= from
#                                              [command_workloads] writable_paths of tuned.toml),
#                                              builtin-only.conf (scripts/tuned-builtin-only.conf,
#                                              with --builtin-only)
#   ROOT/etc/tuned/tuned.toml                  scripts/tuned.toml, commented defaults; never overwritten
#   ROOT/usr/lib/sysusers.d/tuned.conf         the `tuned` system user and group, created with
#                                              systemd-sysusers (or useradd without it)
# It refuses to install over the other program named tuned, the system-tuning daemon of the
# Debian/Fedora package `tuned` (its /usr/sbin/tuned, its tuned.service): both use the unit
# name tuned.service, /etc/tuned and /run/tuned.
# Uninstall removes all of that except a tuned.toml you edited, the store (/var/lib/tuned)
# and the user; it says what it kept.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: scripts/install.sh [--prefix DIR] [--root DIR] [--binaries DIR] [--builtin-only] [--uninstall]
  --prefix DIR    install under DIR (default /usr/local)
  --root DIR      install into DIR as if it were / (a package or a test); no systemctl calls
  --binaries DIR  take tuned and tunectl from DIR instead of building them (swift build -c release)
  --builtin-only  also install the drop-in scripts/tuned-builtin-only.conf: no devices, no W+X
                  memory, no network for the service (sites without command workloads; without
                  the flag an installed one is removed)
  --uninstall     remove what install put in place (keeps an edited tuned.toml, the store, the user)
EOF
}

prefix=/usr/local
root=/
binaries=
uninstall=0
builtin_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --prefix=*) prefix="${1#*=}"; shift ;;
        --root) root="${2:?--root needs a directory}"; shift 2 ;;
        --root=*) root="${1#*=}"; shift ;;
        --binaries) binaries="${2:?--binaries needs a directory}"; shift 2 ;;
        --binaries=*) binaries="${1#*=}"; shift ;;
        --builtin-only) builtin_only=1; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case "$prefix" in /*) ;; *) echo "install.sh: --prefix must be an absolute path, got '$prefix'" >&2; exit 2 ;; esac
root="${root%/}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
R="$root"  # "" for the real root

bin="$R$prefix/bin"
share="$R$prefix/share/tuned"
doc="$R$prefix/share/doc/tuned"
unit="$R/etc/systemd/system/tuned.service"
dropins="$R/etc/systemd/system/tuned.service.d"
conf="$R/etc/tuned/tuned.toml"
sysusers="$R/usr/lib/sysusers.d/tuned.conf"
live_systemd=0
if [ -z "$R" ] && [ -d /run/systemd/system ]; then live_systemd=1; fi

say() { echo "install.sh: $*"; }

# Ours: the unit this script installs says so in its Description.
ours() { grep -q '^Description=tuned hyperparameter tuning daemon' "$1" 2>/dev/null; }

# The other `tuned`: the system-tuning daemon of the Debian/Fedora package of that name.
# Prints what it finds of it, one line each, and returns 0 when its program, its unit or its
# package is present (configuration left behind by a removed package is not in the way).
other_tuned() {
    local f installed=1
    for f in "$R/usr/sbin/tuned" "$R/usr/sbin/tuned-adm" "$R/usr/bin/tuned-adm"; do
        if [ -e "$f" ]; then echo "  $f (a program of the tuned package)"; installed=0; fi
    done
    for f in "$R/usr/lib/systemd/system/tuned.service" "$R/lib/systemd/system/tuned.service" "$unit"; do
        if [ -f "$f" ] && ! ours "$f"; then
            local d; d="$(sed -n 's/^Description=//p' "$f" | head -n 1)"
            echo "  $f (a unit that is not this tuned's${d:+: \"$d\"})"; installed=0
        fi
    done
    if [ -z "$R" ]; then
        if command -v dpkg-query >/dev/null 2>&1 && [ "$(dpkg-query -W -f='${Status}' tuned 2>/dev/null)" = "install ok installed" ]; then
            echo "  the Debian package tuned (dpkg-query -W tuned)"; installed=0
        elif command -v rpm >/dev/null 2>&1 && rpm -q tuned >/dev/null 2>&1; then
            echo "  the RPM package tuned (rpm -q tuned)"; installed=0
        fi
    fi
    for f in tuned-main.conf active_profile profile_mode bootcmdline; do
        if [ -e "$R/etc/tuned/$f" ]; then echo "  $R/etc/tuned/$f (its configuration)"; fi
    done
    return $installed
}
if found="$(other_tuned)" && [ "$uninstall" = 0 ]; then
    cat >&2 <<EOF
install.sh: refusing to install: this system has the other program named tuned,
the system-tuning daemon (power and performance profiles) of the Debian/Fedora package \`tuned\`:
$found
Both use the unit name tuned.service, /etc/tuned and /run/tuned: installing would override its
unit and share its configuration directory. Nothing was changed. To proceed, either
  - remove that package if this machine does not need it: sudo apt-get purge tuned
    (Debian/Ubuntu) or sudo dnf remove tuned (Fedora/RHEL), then run install.sh again; or
  - keep it and run this tuned without the service, as your own user:
    tuned serve --socket ~/.tuned/tuned.sock --store ~/.tuned/tuned.db
    (README, "Locally, without systemd").
EOF
    exit 1
fi
if [ -n "$found" ] && [ "$uninstall" = 0 ]; then
    say "found configuration of the other tuned (the system-tuning daemon; its package is gone), left untouched:"
    echo "$found"
fi

if [ "$uninstall" = 1 ]; then
    if [ "$live_systemd" = 1 ] && systemctl is-active --quiet tuned 2>/dev/null; then
        say "stopping tuned"; systemctl disable --now tuned || true
    fi
    if [ -f "$unit" ] && ! ours "$unit"; then
        say "kept $unit: it is not this tuned's unit ($(sed -n 's/^Description=//p' "$unit" | head -n 1))"
        unit=/nonexistent
    fi
    for f in "$bin/tuned" "$bin/tunectl" "$unit" "$dropins/writable-paths.conf" "$dropins/builtin-only.conf" "$sysusers"; do
        if [ -e "$f" ]; then rm -f "$f"; say "removed $f"; fi
    done
    rmdir "$dropins" 2>/dev/null || true
    for d in "$share" "$doc"; do
        if [ -e "$d" ]; then rm -rf "$d"; say "removed $d"; fi
    done
    if [ -f "$conf" ]; then
        if cmp -s "$conf" "$repo/scripts/tuned.toml"; then
            rm -f "$conf"; rmdir "$R/etc/tuned" 2>/dev/null || true; say "removed $conf (unchanged default)"
        else
            say "kept $conf (edited; remove it yourself if you want it gone)"
        fi
    fi
    [ "$live_systemd" = 1 ] && systemctl daemon-reload
    say "kept the store (/var/lib/tuned) and the tuned user and group (userdel tuned; groupdel tuned)"
    exit 0
fi

# 1. Binaries: a release build unless --binaries names prebuilt ones.
if [ -z "$binaries" ]; then
    say "building (swift build -c release)"
    # shellcheck source=/dev/null
    source "$repo/scripts/env.sh"
    (cd "$repo" && swift build -c release --product tuned && swift build -c release --product tunectl)
    binaries="$(cd "$repo" && swift build -c release --show-bin-path)"
fi
for b in tuned tunectl; do
    [ -x "$binaries/$b" ] || { echo "install.sh: $binaries/$b not found (build it, or pass --binaries DIR)" >&2; exit 1; }
done
install -d -m 755 "$bin" "$share/policies" "$doc" "$R/etc/systemd/system" "$R/usr/lib/sysusers.d"
install -m 755 "$binaries/tuned" "$binaries/tunectl" "$bin/"
say "installed $bin/tuned, $bin/tunectl"

# 2. Policies and documentation.
if [ -d "$repo/policies" ]; then
    cp -R "$repo/policies/." "$share/policies/"
    say "installed policies to $share/policies"
else
    say "no policies/ in the repository yet; $share/policies is empty"
fi
install -m 644 "$repo/README.md" "$doc/"
[ -d "$repo/docs" ] && cp -R "$repo/docs/." "$doc/"

# 3. The unit, with ExecStart under the chosen prefix.
sed "s#/usr/local/bin/tuned#$prefix/bin/tuned#g; s#/usr/local/share/doc/tuned#$prefix/share/doc/tuned#g" \
    "$repo/scripts/tuned.service" > "$unit.tmp"
chmod 644 "$unit.tmp"
mv "$unit.tmp" "$unit"
say "installed $unit"

# 4. The drop-in of the tighter sandbox with --builtin-only (removed without it). The
#    writable paths come from tuned.toml in step 6.
install -d -m 755 "$dropins"
if [ "$builtin_only" = 1 ]; then
    install -m 644 "$repo/scripts/tuned-builtin-only.conf" "$dropins/builtin-only.conf"
    say "installed $dropins/builtin-only.conf: no devices, no W+X memory, no network (built-in workloads only)"
elif [ -e "$dropins/builtin-only.conf" ]; then
    rm -f "$dropins/builtin-only.conf"
    say "removed $dropins/builtin-only.conf (install with --builtin-only to keep it)"
fi

# 5. The tuned user and group.
printf 'g tuned -\nu tuned -:tuned "tuned daemon" /var/lib/tuned /usr/sbin/nologin\n' > "$sysusers"
chmod 644 "$sysusers"
if command -v systemd-sysusers >/dev/null 2>&1; then
    mkdir -p "$R/etc"
    if [ -n "$R" ]; then systemd-sysusers --root="$R" "$sysusers"; else systemd-sysusers "$sysusers"; fi
elif [ -z "$R" ]; then
    getent group tuned >/dev/null || groupadd --system tuned
    getent passwd tuned >/dev/null || useradd --system --gid tuned --home-dir /var/lib/tuned --shell /usr/sbin/nologin tuned
else
    say "systemd-sysusers is missing: the user will be created from $sysusers at first boot"
fi
say "user and group tuned present"

# 6. The configuration, never overwritten (an administrator's edits stay).
install -d -m 755 "$R/etc/tuned"
if [ -f "$conf" ]; then
    say "kept $conf"
else
    install -m 644 "$repo/scripts/tuned.toml" "$conf"
    say "installed $conf (commented defaults)"
fi
"$bin/tuned" check-config "$conf" >/dev/null
#    Its [command_workloads] writable_paths, as ReadWritePaths= (no drop-in when empty).
"$bin/tuned" check-config "$conf" --systemd-drop-in > "$dropins/writable-paths.conf.tmp"
if [ -s "$dropins/writable-paths.conf.tmp" ]; then
    chmod 644 "$dropins/writable-paths.conf.tmp"
    mv "$dropins/writable-paths.conf.tmp" "$dropins/writable-paths.conf"
    say "installed $dropins/writable-paths.conf: ReadWritePaths=$(sed -n 's/^ReadWritePaths=//p' "$dropins/writable-paths.conf")"
else
    rm -f "$dropins/writable-paths.conf.tmp" "$dropins/writable-paths.conf"
    say "no [command_workloads] writable_paths in $conf: command workloads may write only to /var/lib/tuned, /tmp and /dev/shm"
fi
rmdir "$dropins" 2>/dev/null || true

if [ "$live_systemd" = 1 ]; then
    systemctl daemon-reload
    say "done: sudo systemctl enable --now tuned"
else
    say "done (systemd is not running here: nothing was enabled)"
fi
say "users of the daemon join the tuned group: sudo usermod -aG tuned USER (then log in again)"
