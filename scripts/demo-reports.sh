#!/usr/bin/env bash
# Posts demo reports to a running Worker (default http://127.0.0.1:8787) once
# it answers: two JDCs whose seeded jd-client/sv2 rows get renamed.
set -euo pipefail
base=${1:-http://127.0.0.1:8787}
url="$base/api/downstream-report"
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null "$url" && break
  sleep 1
done
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
earlier=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
miner() { # vendor hw firmware hashrate worker
  printf '{"vendor":"%s","hardwareVersion":"%s","firmware":"%s","deviceId":"","nominalHashRate":%s,"userIdentity":"%s","connectedAt":"%s"}' \
    "$1" "$2" "$3" "$4" "$5" "$earlier"
}
post() {
  curl -fsS -X POST -H 'Content-Type: application/json' --data "$1" "$url"
  echo
}
alpha=bc1qdemojdc0000000000000000000000000000alpha
beta=bc1qdemojdc00000000000000000000000000000beta
post "{\"schemaVersion\":1,\"jdcUserIdentity\":\"$alpha.jdc1\",\"timestamp\":\"$now\",\"miners\":[$(miner bitaxe BM1370 v2.4.1 1.2e12 "$alpha.gamma1"),$(miner bitaxe BM1368 v2.4.1 7.0e11 "$alpha.supra"),$(miner NerdQAxe++ BM1370 v1.0.30 4.8e12 "$alpha.nerd")]}"
post "{\"schemaVersion\":1,\"jdcUserIdentity\":\"$beta.rack7\",\"timestamp\":\"$now\",\"miners\":[$(miner 'Braiins OS' S19j 'BOS 24.09' 1.04e14 "$beta.s19a"),$(miner 'Braiins OS' S19j 'BOS 24.09' 1.04e14 "$beta.s19b"),$(miner VNish S21 '1.2.6' 2.0e14 "$beta.s21")]}"
