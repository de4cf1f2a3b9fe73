# Before the router's confirmation: it must route (a BGP session Established) and resolve (its own name answers)
# within HEALTH_SECONDS, or the trial is left to switch back.
set -eu
deadline=$(( $(date +%s) + HEALTH_SECONDS ))
until sudo birdc show protocols | grep -q Established; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "no BGP session Established; the trial will roll back" >&2; exit 1; }
  sleep 2
done
dig +short +time=2 @127.0.0.1 "$ROUTER_NAME" | grep -q . || { echo "DNS does not answer; the trial will roll back" >&2; exit 1; }
