# Sourced by demo.sh: the demo's data dir, which the demo may wipe only if it made it itself.
#
# prepare_demo_dir DIR leaves DIR empty but for a marker file, or refuses (exit status 2):
#   - DIR absent or empty: created, marked;
#   - DIR holding the marker a previous demo run wrote: wiped and marked again;
#   - anything else (a real data dir, a home directory, a typo): left untouched, refused.
DEMO_MARKER=".pitchmatch-demo-dir"

prepare_demo_dir() {
    local dir="$1"
    if [ -z "$dir" ] || [ "$dir" = "/" ]; then
        echo "demo: refusing to use '$dir' as the demo data dir" >&2
        return 2
    fi
    if [ -e "$dir" ] || [ -L "$dir" ]; then
        if [ -L "$dir" ] || [ ! -d "$dir" ]; then
            echo "demo: $dir is not a plain directory; refusing to touch it" >&2
            return 2
        fi
        if [ -f "$dir/$DEMO_MARKER" ]; then
            rm -rf -- "$dir"
        elif [ -n "$(ls -A -- "$dir")" ]; then
            echo "demo: $dir is not empty and was not made by the demo; refusing to delete it." >&2
            echo "demo: set PITCHMATCH_DEMO_DIR to a new or empty directory." >&2
            return 2
        fi
    fi
    mkdir -p -- "$dir"
    echo "made by scripts/demo.sh; the demo deletes this directory on its next run" >"$dir/$DEMO_MARKER"
}
