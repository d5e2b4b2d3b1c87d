#!/usr/bin/env bash
# Quick start: build hbackup, create a local repository, back up a
# directory into it and list the snapshot.
#   ./quickstart.sh [DIR-TO-BACK-UP] [REPOSITORY]
# Defaults: this source tree, and a new repository under /tmp.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin"
src="${1:-$PWD}"
repo="${2:-$(mktemp -d /tmp/hbackup-repo-XXXXXX)}"
go build -o ./hbackup ./cmd/hbackup
pwfile="$repo.password"
[ -f "$pwfile" ] || { head -c 24 /dev/urandom | base64 > "$pwfile"; chmod 600 "$pwfile"; }
export RESTIC_REPOSITORY="$repo" RESTIC_PASSWORD_FILE="$pwfile"
[ -f "$repo/config" ] || ./hbackup init
./hbackup backup "$src"
./hbackup snapshots
echo
echo "repository: $repo   password file: $pwfile"
echo "restore with: RESTIC_REPOSITORY=$repo RESTIC_PASSWORD_FILE=$pwfile ./hbackup restore latest --target /tmp/restored"
