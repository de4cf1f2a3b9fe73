# Writes the VM's secret files from stdin ("name<TAB>base64 content" per line) into the secrets directory,
# readable by root only. Nothing of them reaches the Nix store or the command line.
set -eu
sudo install -d -m 0700 -o root -g root "$SECRETS_DIR"
while IFS="$(printf '\t')" read -r name content; do
  [ -n "$name" ] || continue
  printf '%s' "$content" | base64 -d | sudo sh -c "umask 077; cat > '$SECRETS_DIR/$name'"
done
