# Prints the public half of the private SSH key read from stdin; the private key only touches a 0600 temporary file.
set -eu
umask 077
key=$(mktemp)
trap 'rm -f "$key"' EXIT
# `pulumi config set --secret KEY < file` keeps no final newline, and ssh-keygen refuses a key without one.
{
  cat
  echo
} > "$key"
ssh-keygen -y -f "$key"
