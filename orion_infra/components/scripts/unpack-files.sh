# unpack_files DIR: writes the files on stdin ("PATH<TAB>BASE64" per line, as file_lines in
# orion_infra/components/scripts writes them) under DIR, once their SHA-256 is $DIGEST: a truncated or altered
# transfer writes nothing.
unpack_files() {
  payload=$(mktemp)
  cat > "$payload"
  if echo "$DIGEST  $payload" | sha256sum -c --quiet - >/dev/null 2>&1; then
    unpack_lines "$1" < "$payload" && unpacked=yes || unpacked=no
  else
    echo "the files received do not match their digest $DIGEST" >&2
    unpacked=no
  fi
  rm -f "$payload"
  [ "$unpacked" = yes ]
}

# Called in a condition, where `set -e` does not apply: every step checks for itself.
unpack_lines() {
  tab=$(printf '\t')
  while IFS="$tab" read -r path content; do
    case $path in
    '') continue ;;
    /* | .. | ../* | */.. | */../*)
      echo "refusing to write outside the configuration: $path" >&2
      return 1
      ;;
    esac
    mkdir -p "$1/$(dirname "$path")" || return 1
    printf '%s' "$content" | base64 -d > "$1/$path" || return 1
  done
}
