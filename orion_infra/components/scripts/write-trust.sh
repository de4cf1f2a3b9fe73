# Writes the node's API trust anchor (a PEM certificate, on stdin) to $TRUST_FILE on the operator's machine, whole or
# not at all. The Proxmox provider verifies the API against it: SSL_CERT_DIR names the directory (ADR 0031).
set -eu
umask 022
mkdir -p "$(dirname "$TRUST_FILE")"
staged=$(mktemp "$TRUST_FILE.XXXXXX")
trap 'rm -f "$staged"' EXIT
cat > "$staged"
grep -q -- '-----BEGIN CERTIFICATE-----' "$staged" || {
  echo "what the node sent is not a PEM certificate" >&2
  exit 1
}
chmod 0644 "$staged"
mv "$staged" "$TRUST_FILE"
echo "the API of the node is trusted through $TRUST_FILE"
