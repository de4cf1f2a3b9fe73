# Waits until the freshly installed Proxmox VE answers on its API (401 without credentials is an answer), then
# withdraws the prepared installer: it embeds the root password hash.
set -eu
deadline=$(( $(date +%s) + TIMEOUT_SECONDS ))
until code=$(curl -ks -o /dev/null -w '%{http_code}' --max-time 10 "$API_URL/api2/json/version") && [ "$code" != 000 ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "Proxmox VE did not answer at $API_URL within $TIMEOUT_SECONDS s" >&2
    exit 1
  fi
  sleep 15
done
rm -f "$SERVE_DIR/$INSTALLER_NAME"
echo "Proxmox VE answers at $API_URL (HTTP $code)"
