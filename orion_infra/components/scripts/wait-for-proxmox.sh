# Waits until the freshly installed Proxmox VE answers on its API (401 without credentials is an answer), then
# stops serving the installer (which withdraws it: it embeds the root password hash). It stops serving when the
# wait fails too; a server nobody stops withdraws its image at its own deadline.
set -eu
stop_serving() {
  if [ -f "$MEDIA_DIR/server.pid" ]; then
    kill "$(cat "$MEDIA_DIR/server.pid")" 2>/dev/null || true
    rm -f "$MEDIA_DIR/server.pid" "$MEDIA_DIR/url"
  fi
}
trap stop_serving EXIT
deadline=$(( $(date +%s) + TIMEOUT_SECONDS ))
until code=$(curl -ks -o /dev/null -w '%{http_code}' --max-time 10 "$API_URL/api2/json/version") && [ "$code" != 000 ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "Proxmox VE did not answer at $API_URL within $TIMEOUT_SECONDS s" >&2
    exit 1
  fi
  sleep "$POLL_SECONDS"
done
echo "Proxmox VE answers at $API_URL (HTTP $code)"
