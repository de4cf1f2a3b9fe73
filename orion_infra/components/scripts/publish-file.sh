# Prints the SHA-256 of a file the operator placed in the serving directory, for Proxmox to verify its download.
set -eu
[ -f "$SERVE_DIR/$FILE_NAME" ] || { echo "$SERVE_DIR/$FILE_NAME is missing: put it there first (see README)" >&2; exit 1; }
sha256sum "$SERVE_DIR/$FILE_NAME" | cut -d' ' -f1
