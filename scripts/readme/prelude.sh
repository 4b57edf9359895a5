# Sourced before the README's walk-through blocks (scripts/readme/run.sh).
#
# `curl` is wrapped: each answer's status is recorded (curl -v's status line, on a
# side file; what the command prints is unchanged, so pipes into jq work as written).
# `readme_expect NNN` (from a `# -> NNN` comment) checks the last status. An answer of
# 400 or more that no `# -> NNN` line expects fails the run when the next request
# starts or the block ends. `cargo run ... -p switchboard-admin -- ARGS` runs the
# admin binary that run.sh built (the same one, without a second compile); any other
# cargo command is refused.

README_STATE=$(mktemp -d)
: >"$README_STATE/statuses"
README_BLOCK=0

readme_fail() {
    echo "README block $README_BLOCK (line $README_LINE, section \"$README_SECTION\"): $*" >&2
    exit 1
}

# Fails when an error answer was not expected by a `# -> NNN` line.
readme_check_unexpected() {
    local seq status mark
    while read -r seq status mark; do
        if [ "$status" -ge 400 ] && [ "$mark" != expected ]; then
            readme_fail "request $seq answered $status, which the README does not say"
        fi
    done <"$README_STATE/statuses"
}

curl() {
    readme_check_unexpected
    local trace rc=0
    trace=$(mktemp)
    command curl -v "$@" 2>"$trace" || rc=$?
    local status
    status=$(sed -n 's/^< HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' "$trace" | tail -n1)
    # curl's own error messages (not the verbose trace) still reach standard error.
    grep -vE '^([*<>{}]|\} |\{ )' "$trace" >&2 || true
    rm -f "$trace"
    local seq
    seq=$(($(wc -l <"$README_STATE/statuses") + 1))
    echo "$seq ${status:-000} pending" >>"$README_STATE/statuses"
    return "$rc"
}

readme_expect() {
    local expected=$1 last
    last=$(tail -n1 "$README_STATE/statuses")
    [ -n "$last" ] || readme_fail "expects $expected, but no request was made"
    set -- $last
    [ "$2" = "$expected" ] || readme_fail "request $1 answered $2, the README says $expected"
    sed -i '$ s/pending$/expected/' "$README_STATE/statuses"
}

readme_block_start() {
    README_BLOCK=$1
    README_LINE=$2
    README_SECTION=$3
    printf '\n---- README block %s (line %s): %s\n' "$1" "$2" "$3"
}

readme_block_done() {
    readme_check_unexpected
    local requests
    requests=$(wc -l <"$README_STATE/statuses")
    echo "---- block $README_BLOCK ok ($requests requests so far)"
}

cargo() {
    local args=("$@")
    if [ "${args[0]:-}" = run ]; then
        local index
        for index in "${!args[@]}"; do
            if [ "${args[$index]}" = "--" ]; then
                if [[ " ${args[*]:0:$index} " == *" switchboard-admin "* ]]; then
                    "$README_ADMIN" "${args[@]:$((index + 1))}"
                    return
                fi
            fi
        done
    fi
    echo "README walk-through: only 'cargo run ... -p switchboard-admin -- ...' runs here: cargo $*" >&2
    return 1
}
