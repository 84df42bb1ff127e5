#!/bin/sh
# Barman: writes its password file from compose/.env (never baked into the image), then runs the loop
# that moves incoming WAL into the archive (no cron daemon in a container), as the native lab does:
# `barman cron` when a WAL waits in incoming/, and every minute for its other housekeeping.
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (compose/.env)}"
interval=${BARMAN_CRON_INTERVAL_S:-3}

mkdir -p /var/lib/barman /var/log/barman /var/lib/walship/incoming /var/lib/walship/spool
chown barman:barman /var/lib/barman /var/log/barman /var/lib/walship /var/lib/walship/incoming /var/lib/walship/spool
chmod 2770 /var/lib/walship/incoming /var/lib/walship/spool
chmod 2750 /var/lib/walship
umask 077
printf 'haproxy:*:*:postgres:%s\n' "$POSTGRES_PASSWORD" > /var/lib/barman/.pgpass-cluster
chown barman:barman /var/lib/barman/.pgpass-cluster
unset POSTGRES_PASSWORD
umask 022
touch /var/log/barman/barman.log /var/log/barman/cron.log
chown barman:barman /var/log/barman/barman.log /var/log/barman/cron.log

exec setpriv --reuid=barman --regid=barman --init-groups env HOME=/var/lib/barman INTERVAL="$interval" sh -c '
  trap "exit 0" TERM INT
  i=0
  while :; do
    if [ -n "$(ls -A /var/lib/walship/incoming)" ] || [ $((i % 20)) -eq 0 ]; then barman -q cron >> /var/log/barman/cron.log 2>&1; fi
    i=$((i + 1))
    sleep "$INTERVAL" & wait $!
  done'
