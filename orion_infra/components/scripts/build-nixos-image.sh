# Builds the first system of ORION's NixOS VMs, a qcow2 image, from the base system's flake on stdin, and
# publishes it for Proxmox to import. Needs Nix 2.18 or later (nothing else of NixOS) on an x86_64 Linux machine
# with KVM: the image is assembled in a build VM.
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unpack_files "$work/flake"
nix --extra-experimental-features 'nix-command flakes' build --no-link --print-out-paths \
  "path:$work/flake#nixosConfigurations.orion.config.system.build.images.qemu" > "$work/built"
image=$(find -L "$(tail -n 1 "$work/built")" -name '*.qcow2' | head -n 1)
[ -n "$image" ] || { echo "the image build left no qcow2 under $(tail -n 1 "$work/built")" >&2; exit 1; }
install -m 0644 "$image" "$SERVE_DIR/$FILE_NAME.part"
mv "$SERVE_DIR/$FILE_NAME.part" "$SERVE_DIR/$FILE_NAME"
sha256sum "$SERVE_DIR/$FILE_NAME" | cut -d' ' -f1
