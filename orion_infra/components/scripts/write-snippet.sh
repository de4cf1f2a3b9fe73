# Writes the cloud-init user data on stdin (it holds a VM's SSH host key) to the node's snippets directory as
# $SNIPPET, readable by root only (Proxmox reads it as root to build the VM's cloud-init drive), whole or not at all.
set -eu
umask 077
mkdir -p "$(dirname "$SNIPPET")"
staged=$(mktemp "$SNIPPET.XXXXXX")
trap 'rm -f "$staged"' EXIT
cat > "$staged"
mv "$staged" "$SNIPPET"
echo "first-boot data written to $SNIPPET"
