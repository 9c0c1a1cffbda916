#!/bin/sh
# Regenerates the test-only CA and the fake API server's certificate (valid 100 years).
# The CA key is thrown away: nothing but these tests ever trusts this CA.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 36500 \
  -keyout "$tmp/ca-key.pem" -out ca.pem -subj '/CN=airflow-reap fake-kube test CA' \
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'
openssl req -newkey rsa:2048 -nodes -sha256 -keyout server-key.pem -out "$tmp/server.csr" -subj '/CN=localhost'
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$tmp/ext.cnf"
openssl x509 -req -sha256 -days 36500 -in "$tmp/server.csr" -CA ca.pem -CAkey "$tmp/ca-key.pem" \
  -CAcreateserial -CAserial "$tmp/ca.srl" -extfile "$tmp/ext.cnf" -out server.pem
