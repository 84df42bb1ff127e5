#!/bin/sh
# One etcd member of the stack's 3-member cluster. MEMBER_NAME and PUBLISHED_CLIENT_PORT come from
# docker-compose.yml. The client URL published on the host is advertised first, so a cockpit on the
# host reaches every member from the member list; Patroni uses the container names (use_proxies).
set -eu
: "${MEMBER_NAME:?MEMBER_NAME is not set}"
: "${PUBLISHED_CLIENT_PORT:?PUBLISHED_CLIENT_PORT is not set}"
cluster=etcd1=http://etcd1:2380,etcd2=http://etcd2:2380,etcd3=http://etcd3:2380
exec etcd \
  --name "$MEMBER_NAME" \
  --data-dir /var/lib/etcd/data \
  --listen-client-urls http://0.0.0.0:2379 \
  --advertise-client-urls "http://127.0.0.1:$PUBLISHED_CLIENT_PORT,http://$MEMBER_NAME:2379" \
  --listen-peer-urls http://0.0.0.0:2380 \
  --initial-advertise-peer-urls "http://$MEMBER_NAME:2380" \
  --initial-cluster "$cluster" \
  --initial-cluster-token pgcockpit-compose \
  --initial-cluster-state new
