#!/bin/sh
# Start one Patroni member as postgres. Its config (compose/config/patroni-<name>.yml) is mounted
# read-only and holds no secret: the passwords come from compose/.env through Patroni's own
# environment variables. Patroni retries etcd on its own, with one exception handled here: when it first
# asks while etcd's cluster version is still undecided (3.0, before the members agree), Patroni 3.0 settles
# on the v3alpha API, which etcd 3.4 does not serve, and never recovers. So wait for a decided version.
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (compose/.env)}"
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD (compose/.env)}"
export PATRONI_SUPERUSER_PASSWORD="$POSTGRES_PASSWORD" PATRONI_REWIND_PASSWORD="$POSTGRES_PASSWORD"
export PATRONI_REPLICATION_PASSWORD="$REPLICATION_PASSWORD"
unset POSTGRES_PASSWORD REPLICATION_PASSWORD

mkdir -p /var/lib/postgresql/data /var/run/postgresql /var/log/postgresql
chown postgres:postgres /var/lib/postgresql /var/lib/postgresql/data /var/run/postgresql /var/log/postgresql
chmod 0750 /var/lib/postgresql/data
# WAL shipping: Barman's incoming directory and the spool next to it (same volume: atomic moves).
mkdir -p /var/lib/walship/incoming /var/lib/walship/spool
chown 991:991 /var/lib/walship /var/lib/walship/incoming /var/lib/walship/spool
chmod 2770 /var/lib/walship/incoming /var/lib/walship/spool
chmod 2750 /var/lib/walship
touch /var/log/postgresql/archive.log
chown postgres:postgres /var/log/postgresql/archive.log

said=
until curl -fsS --max-time 2 http://etcd1:2379/version http://etcd2:2379/version http://etcd3:2379/version 2>/dev/null \
    | grep -q '"etcdcluster":"3\.[1-9]'; do
  [ -n "$said" ] || { echo "waiting for etcd's cluster version to be decided"; said=1; }
  sleep 1
done

exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql \
  patroni /etc/patroni/patroni.yml
