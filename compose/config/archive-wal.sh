#!/bin/sh
# archive_command for a Patroni member: ship one WAL file to Barman's incoming directory.
# Usage: archive-wal.sh <%p path> <%f name> <spool dir> <incoming dir> <archive.log>
# PostgreSQL runs archive_command only on the primary (archive_mode = on), so only the leader ships.
# The copy goes to a temporary name in the spool directory (same file system) and is moved into
# incoming/ atomically, so Barman never picks up a half-written segment. Barman reads it through the
# shared group (the copy would otherwise keep the segment's 0600).
set -u
umask 027
src=$1 wal=$2 spool=$3 incoming=$4 log=$5
tmp="$spool/$wal.$$.tmp"
stamp() { date '+%Y-%m-%d %H:%M:%S'; }
if cp "$src" "$tmp" && chmod 0640 "$tmp" && sync "$tmp" && mv -f "$tmp" "$incoming/$wal"; then
  echo "$(stamp) - Archived: $wal" >> "$log"
  exit 0
fi
rm -f "$tmp"
echo "$(stamp) - FAILED to archive: $wal" >> "$log"
exit 1
