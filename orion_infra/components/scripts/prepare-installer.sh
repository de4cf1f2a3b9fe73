# Prepares the Proxmox VE installer that installs itself: downloads and verifies the ISO, embeds the answer file
# and the first-boot hook (both read from stdin, as unpack_lines reads files: they hold the root password hash and
# the node's SSH host key), and serves the result to the iDRAC alone (orion_infra/installer_media.py), from a
# directory only the operator reads; prints its URL.
# Needs proxmox-auto-install-assistant, curl, sha256sum and openssl on the operator's machine.
set -eu
umask 077
mkdir -p "$MEDIA_DIR"
chmod 0700 "$MEDIA_DIR"
# An earlier attempt's server (and with it its image) goes first.
if [ -f "$MEDIA_DIR/server.pid" ]; then
  kill "$(cat "$MEDIA_DIR/server.pid")" 2>/dev/null || true
  rm -f "$MEDIA_DIR/server.pid"
fi
iso="$SERVE_DIR/$ISO_NAME"
if [ ! -f "$iso" ]; then
  curl -fsSL --proto '=https' --retry 3 -o "$iso.part" "$ISO_URL"
  mv "$iso.part" "$iso"
fi
expected=${ISO_SHA256:-$(curl -fsSL --proto '=https' --retry 3 "$CHECKSUM_URL" | awk -v name="$ISO_NAME" '$2 == name || $2 == "*" name { print $1 }')}
[ -n "$expected" ] || { echo "no checksum for $ISO_NAME in $CHECKSUM_URL" >&2; exit 1; }
echo "$expected  $iso" | sha256sum -c --quiet -
inputs="$MEDIA_DIR/inputs"
answer="$inputs/answer.toml"
hook="$inputs/first-boot"
image="$MEDIA_DIR/$OUTPUT_NAME"
trap 'rm -rf "$inputs" "$image.part"' EXIT
rm -rf "$inputs"
unpack_lines "$inputs"
if [ ! -f "$answer" ] || [ ! -f "$hook" ]; then
  echo "stdin held no answer.toml and first-boot" >&2
  exit 1
fi
chmod 0700 "$hook"
proxmox-auto-install-assistant validate-answer "$answer"
proxmox-auto-install-assistant prepare-iso "$iso" --fetch-from iso --answer-file "$answer" --on-first-boot "$hook" \
  --output "$image.part"
mv "$image.part" "$image"
rm -f "$MEDIA_DIR/url"
plain_http=
[ "$MEDIA_HTTPS" = true ] || plain_http=--plain-http
# shellcheck disable=SC2086 # plain_http is one flag or none
setsid "$PYTHON" -m orion_infra.installer_media serve --image "$image" --address "$MEDIA_ADDRESS" \
  --port "$MEDIA_PORT" --client "$IDRAC_ADDRESS" --seconds "$MEDIA_SECONDS" --url-file "$MEDIA_DIR/url" $plain_http \
  </dev/null >>"$MEDIA_DIR/server.log" 2>&1 &
echo $! > "$MEDIA_DIR/server.pid"
tries=0
until [ -f "$MEDIA_DIR/url" ]; do
  if ! kill -0 "$(cat "$MEDIA_DIR/server.pid")" 2>/dev/null || [ "$tries" -ge 100 ]; then
    echo "the installer media server did not start; its log:" >&2
    cat "$MEDIA_DIR/server.log" >&2
    rm -f "$image"
    exit 1
  fi
  tries=$((tries + 1))
  sleep 0.1
done
cat "$MEDIA_DIR/url"
