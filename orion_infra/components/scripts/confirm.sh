# Runs over a new SSH connection: reaching here proves management access survived the switch. Keeps the system
# the trial switched to, and only that one (again, if a retried step asks twice); then forgets older staged
# configurations, and the sets of secrets that neither this system nor the two committed before it read (a switch
# back, or an older system booted from the boot menu, finds its own set; sets of trials never confirmed go).
set -eu
system=$(readlink -f "$HOME/.orion/$DIGEST.build/result")
sudo orion-trial confirm "$system"
committed=$SECRETS_DIR/.committed
if [ "$(sudo sh -c "tail -n 1 '$committed' 2>/dev/null" || true)" != "$GENERATION" ]; then
  printf '%s\n' "$GENERATION" | sudo sh -c "umask 077; cat >> '$committed'"
fi
# The three sets committed last (this one first), each once.
keep=$(sudo cat "$committed" | tac | awk '!seen[$0]++' | head -n 3)
for set in $(sudo find "$SECRETS_DIR" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n'); do
  if ! printf '%s\n' "$keep" | grep -qxF "$set"; then
    sudo rm -rf "${SECRETS_DIR:?}/$set"
  fi
done
for old in "$HOME"/.orion/*; do
  case $old in
  "$HOME/.orion/$DIGEST" | "$HOME/.orion/$DIGEST.build") ;;
  *) rm -rf "$old" ;;
  esac
done
