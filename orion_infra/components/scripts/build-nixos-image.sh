# Builds the first system of ORION's NixOS VMs (a qcow2 image) and publishes it for Proxmox to import.
# Needs Nix on the operator's machine (nixos-rebuild build-image, NixOS 25.05 or later).
set -eu
out=$(nixos-rebuild build-image --image-variant qemu -I "nixos-config=$BASE_CONFIG" --no-out-link 2>/dev/null | tail -n 1)
image=$(find -L "$out" -name '*.qcow2' | head -n 1)
[ -n "$image" ] || { echo "no qcow2 image under $out" >&2; exit 1; }
install -m 0644 "$image" "$SERVE_DIR/$FILE_NAME.part"
mv "$SERVE_DIR/$FILE_NAME.part" "$SERVE_DIR/$FILE_NAME"
sha256sum "$SERVE_DIR/$FILE_NAME" | cut -d' ' -f1
