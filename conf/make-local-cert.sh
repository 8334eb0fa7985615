#!/bin/sh
# Makes a self-signed certificate for the example hosts of conf/berth.yaml: localhost, every
# name under .localhost, www.alpha.localhost, 127.0.0.1 and ::1.
#
#   conf/make-local-cert.sh                 # writes conf/tls/local.pem and conf/tls/local.key
#   conf/make-local-cert.sh NAME            # writes conf/tls/NAME.pem and conf/tls/NAME.key
#   EXTRA_NAMES=DNS:shop.test,IP:10.0.0.5 conf/make-local-cert.sh   # more names
#   DAYS=30 conf/make-local-cert.sh         # validity (default 825 days)
#
# Then point the hosts' `tls:` at it (one line in conf/berth.yaml: the `&local_tls` anchor).
# Clients do not trust a self-signed certificate: use `curl -k`, or `curl --cacert conf/tls/local.pem`.
set -eu
cd "$(dirname "$0")"
name=${1:-local}
names="DNS:localhost,DNS:*.localhost,DNS:www.alpha.localhost,IP:127.0.0.1,IP:::1"
if [ -n "${EXTRA_NAMES:-}" ]; then names="$names,$EXTRA_NAMES"; fi
mkdir -p tls
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "${DAYS:-825}" \
  -subj "/CN=localhost" \
  -addext "subjectAltName=$names" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "tls/$name.key" -out "tls/$name.pem" 2>/dev/null
chmod 644 "tls/$name.pem"
echo "wrote conf/tls/$name.pem and conf/tls/$name.key, valid ${DAYS:-825} days for $names"
