# Builds the first system of ORION's NixOS VMs, a qcow2 image, from the base system's flake on stdin, and
# publishes it for Proxmox to import. Needs Nix 2.18 or later on the operator's machine.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unpack_files "$work/flake"
cd "$work"
# It prints the image file's path last; ./result, its garbage collector root, goes with $work.
nixos-rebuild build-image --flake "$work/flake#orion" --image-variant qemu > "$work/built"
image=$(tail -n 1 "$work/built")
[ -f "$image" ] || { echo "nixos-rebuild build-image named no image file (it printed: ${image:-nothing})" >&2; exit 1; }
install -m 0644 "$image" "$SERVE_DIR/$FILE_NAME.part"
mv "$SERVE_DIR/$FILE_NAME.part" "$SERVE_DIR/$FILE_NAME"
sha256sum "$SERVE_DIR/$FILE_NAME" | cut -d' ' -f1
