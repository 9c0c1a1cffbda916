#!/usr/bin/env bash
# Installs (Debian packages) and starts what the tests need, on a machine where none of it exists yet
# as well as on one where it already runs: run by .ci/run, and by hand at the start of each session.
#
#   PostgreSQL   127.0.0.1:5432, user postgres, trust auth on loopback
#   MariaDB      127.0.0.1:3306, root without a password
#   PgBouncer    the binary only (the tests start their own, test/support/pgbouncer.ts)
#   kubectl      Debian's kubernetes-client, for plugin discovery (unless a kubectl is on PATH already)
#
# Debian's defaults ask for a password on 127.0.0.1 (PostgreSQL's scram-sha-256 in pg_hba.conf,
# MariaDB's root@localhost by unix socket only), so both are set to what the tests expect. These
# servers are for throwaway test databases on loopback only: nothing listens beyond 127.0.0.1/::1.
set -euo pipefail

log() { printf '\n== %s\n' "$*" >&2; }

apt_updated=false
apt_install() {
  if [ "$apt_updated" = false ]; then
    apt-get update -qq
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_missing() {
  local missing=()
  installed postgresql || missing+=(postgresql)
  installed mariadb-server || missing+=(mariadb-server)
  installed pgbouncer || missing+=(pgbouncer)
  command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} (Debian)"
    # The packages' postinst scripts try to start services through invoke-rc.d; without an init system
    # that fails the install, so policy-rc.d forbids it for the install and we start them below.
    local policy=/usr/sbin/policy-rc.d
    local had_policy=false
    [ -e "$policy" ] && had_policy=true
    if [ "$had_policy" = false ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"; fi
    apt_install "${missing[@]}" || { [ "$had_policy" = false ] && rm -f "$policy"; return 1; }
    if [ "$had_policy" = false ]; then rm -f "$policy"; fi
  fi
}

postgres_version() { ls /etc/postgresql 2>/dev/null | sort -V | tail -1 || true; }

configure_postgres() {
  local version hba
  version="$(postgres_version)"
  if [ -z "$version" ] || [ ! -d "/etc/postgresql/$version/main" ]; then
    log "creating the PostgreSQL cluster"
    version="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1 || true)"
    pg_createcluster "$version" main >/dev/null
  fi
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # Trust on loopback, first so that it wins over Debian's scram-sha-256 lines.
  if ! grep -q '^# airflow-reap tests' "$hba"; then
    log "PostgreSQL: trust auth on loopback"
    {
      echo '# airflow-reap tests: throwaway databases, loopback only'
      echo 'local all all trust'
      echo 'host all all 127.0.0.1/32 trust'
      echo 'host all all ::1/128 trust'
      cat "$hba"
    } >"$hba.new"
    mv "$hba.new" "$hba"
    chown postgres:postgres "$hba"
  fi
  # No TLS (the tests prove that sslmode=require fails against a plain server instead of falling back,
  # and their TCP fault proxies read the plain protocol); Debian turns it on with its snakeoil cert.
  # Loopback only.
  local conf="/etc/postgresql/$version/main/conf.d/airflow-reap-tests.conf"
  if [ ! -f "$conf" ]; then
    mkdir -p "$(dirname "$conf")"
    printf "ssl = off\nlisten_addresses = 'localhost'\n" >"$conf"
    chown -R postgres:postgres "$(dirname "$conf")"
  fi
  echo "$version"
}

start_postgres() {
  local version
  version="$(configure_postgres | tail -1)"
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1 || true
    if [ "$(psql -h 127.0.0.1 -U postgres -Atc 'show ssl' 2>/dev/null)" != off ]; then
      pg_ctlcluster --skip-systemctl-redirect "$version" main restart
    fi
  else
    log "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  fi
}

start_mariadb() {
  if ! mariadb-admin --protocol=socket -u root ping --silent >/dev/null 2>&1; then
    log "starting MariaDB"
    install -d -o mysql -g mysql -m 755 /run/mysqld
    # bind-address: loopback only, whatever the package's config says.
    start-stop-daemon --start --oknodo --background --chuid mysql --exec /usr/sbin/mariadbd -- --bind-address=127.0.0.1
  fi
}

wait_for() {
  local what="$1"; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "$what did not come up within 60 s" >&2
  return 1
}

configure_mariadb() {
  # root over TCP from 127.0.0.1 without a password (Debian's root is unix_socket only).
  if ! mariadb -h 127.0.0.1 -P 3306 -u root -e 'select 1' >/dev/null 2>&1; then
    log "MariaDB: root without a password on 127.0.0.1"
    mariadb --protocol=socket -u root <<'SQL'
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  fi
}

install_missing
start_postgres
start_mariadb
wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q
wait_for MariaDB mariadb-admin --protocol=socket -u root ping --silent
configure_mariadb
[ "$(psql -h 127.0.0.1 -U postgres -Atc 'show ssl')" = off ] || { echo "PostgreSQL still has ssl on" >&2; exit 1; }
mariadb -h 127.0.0.1 -P 3306 -u root -e 'select 1' >/dev/null
log "services ready: PostgreSQL 127.0.0.1:5432 (postgres, trust), MariaDB 127.0.0.1:3306 (root), pgbouncer $(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
