# Runs over a new SSH connection: reaching here proves management access survived. Then the router must route
# (a BGP session Established) and resolve (local names answer) before the configuration is kept.
set -eu
deadline=$(( $(date +%s) + HEALTH_SECONDS ))
until sudo birdc show protocols | grep -q Established; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "no BGP session Established; the trial will roll back" >&2; exit 1; }
  sleep 2
done
dig +short +time=2 @127.0.0.1 "$ROUTER_NAME" | grep -q . || { echo "DNS does not answer; the trial will roll back" >&2; exit 1; }
sudo orion-trial confirm
