# Prepares the Proxmox VE installer that installs itself: downloads and verifies the ISO, embeds the answer file
# (read from stdin: it holds the root password hash), and publishes it where the iDRAC fetches it.
# Needs proxmox-auto-install-assistant, curl and sha256sum on the operator's machine.
set -eu
iso="$SERVE_DIR/$ISO_NAME"
if [ ! -f "$iso" ]; then
  curl -fsSL --retry 3 -o "$iso.part" "$ISO_URL"
  mv "$iso.part" "$iso"
fi
expected=${ISO_SHA256:-$(curl -fsSL --retry 3 "$CHECKSUM_URL" | awk -v name="$ISO_NAME" '$2 == name || $2 == "*" name { print $1 }')}
[ -n "$expected" ] || { echo "no checksum for $ISO_NAME in $CHECKSUM_URL" >&2; exit 1; }
echo "$expected  $iso" | sha256sum -c --quiet -
umask 077
answer=$(mktemp)
trap 'rm -f "$answer"' EXIT
cat > "$answer"
proxmox-auto-install-assistant validate-answer "$answer"
proxmox-auto-install-assistant prepare-iso "$iso" --fetch-from iso --answer-file "$answer" --output "$SERVE_DIR/$OUTPUT_NAME.part"
chmod 0644 "$SERVE_DIR/$OUTPUT_NAME.part"
mv "$SERVE_DIR/$OUTPUT_NAME.part" "$SERVE_DIR/$OUTPUT_NAME"
