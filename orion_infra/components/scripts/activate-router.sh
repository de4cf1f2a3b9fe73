# Tries the pushed router configuration on probation: it is rolled back by itself unless a fresh SSH connection
# confirms it (see confirm-router.sh) within TRIAL_SECONDS.
set -eu
config=/etc/nixos/orion/configuration.nix
sudo orion-trial start "$TRIAL_SECONDS" \
  "nixos-rebuild test -I nixos-config=$config" \
  "/nix/var/nix/profiles/system/bin/switch-to-configuration test" \
  "nixos-rebuild switch -I nixos-config=$config"
