# Receives a system's flake into the admin user's staging directory under its digest, whole or not at all. The
# trial builds it from there; orion-trial makes it /etc/nixos/orion once the system is confirmed.
set -eu
staging=$HOME/.orion
if [ -d "$staging/$DIGEST" ]; then
  cat > /dev/null
  echo "configuration $DIGEST is staged already"
  exit 0
fi
mkdir -p "$staging"
chmod 0700 "$staging"
incoming=$(mktemp -d "$staging/.incoming.XXXXXX")
trap 'rm -rf "$incoming"' EXIT
unpack_files "$incoming"
chmod -R go-w "$incoming"
mv "$incoming" "$staging/$DIGEST"
echo "configuration $DIGEST staged"
