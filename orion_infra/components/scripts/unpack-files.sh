# unpack_files DIR: writes the files on stdin ("PATH<TAB>BASE64" per line, as file_lines in
# orion_infra/components/scripts writes them) under DIR, once their SHA-256 is $DIGEST: a truncated or altered
# transfer writes nothing.
unpack_files() {
  payload=$(mktemp)
  cat > "$payload"
  if ! echo "$DIGEST  $payload" | sha256sum -c --quiet - >/dev/null 2>&1; then
    rm -f "$payload"
    echo "the files received do not match their digest $DIGEST" >&2
    return 1
  fi
  tab=$(printf '\t')
  while IFS="$tab" read -r path content; do
    case $path in
    '') continue ;;
    /* | .. | ../* | */.. | */../*)
      rm -f "$payload"
      echo "refusing to write outside the configuration: $path" >&2
      return 1
      ;;
    esac
    mkdir -p "$1/$(dirname "$path")"
    printf '%s' "$content" | base64 -d > "$1/$path"
  done < "$payload"
  rm -f "$payload"
}
