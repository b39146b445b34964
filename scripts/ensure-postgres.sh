#!/usr/bin/env bash
# The store and service tests run against PostgreSQL too (issue 22): they need
# Debian's postgresql-15 server binaries and PostGIS 3 for it. Install them with
# apt when either is missing (we are root on CI and developer machines). A no-op
# when both are present. Only installs: the tests start a throwaway cluster of
# their own (tests/pg.py); Debian's own service is never started or used.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
PG_EXT=/usr/share/postgresql/15/extension

need=()
[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] || need+=(postgresql-15)
[ -f "$PG_EXT/postgis.control" ] || need+=(postgresql-15-postgis-3)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-postgres: missing ${need[*]}; run as root: apt-get install ${need[*]}" >&2
    exit 1
fi
echo "ensure-postgres: installing ${need[*]} with apt" >&2
export DEBIAN_FRONTEND=noninteractive
# The package's postinst would create and start a 'main' cluster; nothing here
# uses it, so keep policy-rc.d from starting it and skip creating it.
mkdir -p /etc/postgresql-common
grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf \
    || echo 'create_main_cluster = false' >>/etc/postgresql-common/createcluster.conf
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
