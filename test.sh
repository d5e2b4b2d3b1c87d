#!/usr/bin/env bash
# Runs hbackup's whole test suite, including the interoperability tests
# against the real restic binary. As root on Debian it installs what the
# tests need first; elsewhere, install restic yourself (tests that need it
# skip otherwise, or fail when HBACKUP_REQUIRE_INTEGRATION=1).
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin"

need=()
command -v restic >/dev/null || need+=(restic)
command -v setfattr >/dev/null || need+=(attr)
command -v rclone >/dev/null || need+=(rclone)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v zfs-fuse >/dev/null || [ -x /usr/sbin/zfs-fuse ] || need+=(zfs-fuse)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

go vet ./...
go test -race -timeout 25m -count=1 ./... "$@"
# The SHA-256 fallback for CPUs without the SHA extensions.
go test -count=1 -tags purego ./internal/sha256x2
