# Writes the VM's secret files from stdin ("name<TAB>base64 content" per line) as the set $GENERATION of the secrets
# directory, readable by root only, whole or not at all. The system built for this set reads it (each unit its own
# files, as systemd credentials); the running system keeps reading its own set until the switch, and a switch back
# returns to it. Nothing is removed here: confirm.sh forgets the sets no committed system reads. Nothing of them
# reaches the Nix store or the command line.
set -eu
sudo install -d -m 0700 -o root -g root "$SECRETS_DIR"
target=$SECRETS_DIR/$GENERATION
if sudo test -d "$target"; then
  cat > /dev/null
  echo "secrets $GENERATION are in place"
  exit 0
fi
staging=$(sudo mktemp -d "$SECRETS_DIR/.incoming.XXXXXX")
tab=$(printf '\t')
while IFS="$tab" read -r name content; do
  [ -n "$name" ] || continue
  case $name in
  */* | .*)
    sudo rm -rf "$staging"
    echo "refusing a secret file name with a path in it: $name" >&2
    exit 1
    ;;
  esac
  printf '%s' "$content" | base64 -d | sudo sh -c "umask 077; cat > '$staging/$name'"
done
sudo chmod 0700 "$staging"
sudo mv "$staging" "$target"
echo "secrets $GENERATION written"
