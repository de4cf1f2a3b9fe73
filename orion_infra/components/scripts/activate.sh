# Builds the staged configuration (as the admin user: evaluating and building need no root), then switches to the
# built system on probation: orion-trial switches back by itself unless confirm.sh confirms it within
# TRIAL_SECONDS. A slow build delays the trial; it never runs out its window.
set -eu
source=$HOME/.orion/$DIGEST
build=$source.build
mkdir -p "$build"
cd "$build"
nixos-rebuild build --flake "$source#orion"
system=$(readlink -f result)
sudo orion-trial start "$TRIAL_SECONDS" "$system" "$source"
