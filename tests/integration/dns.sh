#!/usr/bin/env bash
# DNS virtual service on the bed: real-server behaviour with dig and kdig,
# EDNS and truncation, GSLB splits counted from the engine's query logs
# (the seed's "export the logs and check the split"), member down/up
# through the API, and a malformed corpus while legit queries keep being
# answered. Issue: DNS virtual service (docs/dns.md).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

VIP=198.18.0.53
ZONE=gslb.example
LOGDIR=$SL_RUN_DIR/qlog
DIG=(ip netns exec $SL_NS_CLI dig +time=1 +tries=2 @$VIP)

config() { # error_response
	local many="" i
	for i in $(seq 10 49); do many+="{\"ip_address\":{\"addr\":\"198.18.2.$i\",\"type\":\"V4\"}},"; done
	cat <<EOJ
[{"model_name":"ApplicationProfile","data":{"name":"it-dns","type":"APPLICATION_PROFILE_TYPE_DNS",
  "dns_service_profile":{"dns_zones":[{"domain_name":"$ZONE","name_server":"ns1.$ZONE","admin_email":"hostmaster.$ZONE"}],
  "negative_caching_ttl":30,"ttl":300,"error_response":"$1"}}},
 {"model_name":"GslbService","data":{"name":"it-631","domain_names":["app.$ZONE"],"ttl":1,
   "groups":[{"name":"g","priority":10,"algorithm":"GSLB_ALGORITHM_ROUND_ROBIN","members":[
     {"ip":{"addr":"198.18.3.1","type":"V4"},"ratio":6},
     {"ip":{"addr":"198.18.3.2","type":"V4"},"ratio":3},
     {"ip":{"addr":"198.18.3.3","type":"V4"},"ratio":1}]}]}},
 {"model_name":"GslbService","data":{"name":"it-20201","domain_names":["web.$ZONE"],"ttl":1,
   "groups":[{"name":"g","priority":10,"algorithm":"GSLB_ALGORITHM_ROUND_ROBIN","members":[
     {"ip":{"addr":"198.18.4.1","type":"V4"},"ratio":20},
     {"ip":{"addr":"198.18.4.2","type":"V4"},"ratio":20},
     {"ip":{"addr":"198.18.4.3","type":"V4"},"ratio":1}]}]}},
 {"model_name":"VirtualService","data":{"name":"it-dns",
  "vip":[{"vip_id":"0","ip_address":{"addr":"$VIP","type":"V4"}}],
  "services":[{"port":53}],
  "application_profile_ref":"/api/applicationprofile?name=it-dns",
  "network_profile_ref":"/api/networkprofile?name=System-UDP-Fast-Path",
  "analytics_policy":{"full_client_logs":{"enabled":true,"throttle":0}},
  "static_dns_records":[
    {"fqdn":["www.$ZONE"],"type":"DNS_RECORD_A","ip_address":[{"ip_address":{"addr":"198.18.2.1","type":"V4"}}],"ttl":300},
    {"fqdn":["alias.$ZONE"],"type":"DNS_RECORD_CNAME","cname":{"cname":"www.$ZONE"},"ttl":300},
    {"fqdn":["many.$ZONE"],"type":"DNS_RECORD_A","ip_address":[${many%,}],"ttl":300,"num_records_in_response":0}]}}]
EOJ
}

# dig_has NAME TYPE PATTERN [dig options]: the dig output matches PATTERN.
dig_has() {
	local n=$1 t=$2 pat=$3 out
	shift 3
	out=$("${DIG[@]}" "$@" "$n" "$t" 2>&1)
	grep -qE "$pat" <<<"$out" || { echo "$out"; echo "(wanted /$pat/)"; return 1; }
}

# split FQDN N NAME: dnsperf sends N queries at a capped rate; the query log
# gives each answer; each member's share must be within 2 points of its ratio.
split() { # fqdn n expected "ip:share ..."
	local fqdn=$1 n=$2 expect=$3 before
	before=$(cat "$LOGDIR/it-dns.dns.jsonl" 2>/dev/null | wc -l)
	printf '%s A\n' "$fqdn" >"$TMP/q"
	in_cli dnsperf -s $VIP -d "$TMP/q" -n "$n" -Q 2000 -c 1 -T 1 >"$TMP/dnsperf.out" 2>&1 ||
		{ cat "$TMP/dnsperf.out"; return 1; }
	grep -q "Queries completed:    $n " "$TMP/dnsperf.out" || { cat "$TMP/dnsperf.out"; return 1; }
	sleep 0.5 # the main lcore drains the log rings every 20 ms
	tail -n +"$((before + 1))" "$LOGDIR/it-dns.dns.jsonl" | $PY -c '
import json, sys
fqdn, n, expect = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count = {}
seen = 0
for line in sys.stdin:
    r = json.loads(line)
    if r["qname"].rstrip(".") != fqdn:
        continue
    seen += 1
    for a in r["answers"]:
        count[a] = count.get(a, 0) + 1
bad = seen != n
out = [f"{seen} logged answers"]
for item in expect.split():
    ip, share = item.split(":")
    got = 100.0 * count.get(ip, 0) / max(seen, 1)
    out.append(f"{ip}: {got:.2f}% (want {float(share):.2f}%)")
    bad |= abs(got - float(share)) > 2.0
print("; ".join(out))
sys.exit(1 if bad else 0)' "$fqdn" "$n" "$expect"
}

member_state() { # gslb ip up|down
	local up=true
	[ "$3" = down ] && up=false
	api PUT "/api/gslbservice/$1/runtime" "{\"members\":[{\"ip\":\"$2\",\"oper_up\":$up}]}" >/dev/null
}

answers_of() { "${DIG[@]}" +short "$1" A 2>/dev/null | sort | tr '\n' ' '; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rm -rf "$LOGDIR"
if ! engine_start --log-dir "$LOGDIR"; then
	not_ok "engine starts"
	it_done
	exit
fi
ok "engine starts ($(engine_pmd))"
if out=$(config DNS_ERROR_RESPONSE_ERROR | "$SL_CTL" apply -f /dev/stdin 2>&1); then
	ok "DNS VS, profile and two GSLB services applied with sluicectl"
else
	not_ok "DNS VS, profile and two GSLB services applied with sluicectl" "$out"
fi

check "A record: NOERROR with AA set" dig_has www.$ZONE A 'status: NOERROR' +norec +noall +comments
check "  ...flags are qr aa" dig_has www.$ZONE A 'flags: qr aa;' +norec +noall +comments
check "A record answer is 198.18.2.1" dig_has www.$ZONE A '^www\.gslb\.example\.\s+300\s+IN\s+A\s+198\.18\.2\.1$'
check "AAAA on an A-only name: NOERROR" dig_has www.$ZONE AAAA 'status: NOERROR' +noall +comments
check "  ...no answer, one authority record" dig_has www.$ZONE AAAA 'ANSWER: 0, AUTHORITY: 1,' +noall +comments
check "  ...and the authority record is the zone's SOA" dig_has www.$ZONE AAAA "^$ZONE\.\s+30\s+IN\s+SOA\s+ns1\.$ZONE\. hostmaster\.$ZONE\." +noall +authority
check "missing name: NXDOMAIN" dig_has nope.$ZONE A 'status: NXDOMAIN' +noall +comments
check "  ...with AA set" dig_has nope.$ZONE A 'flags: qr aa' +noall +comments
check "  ...with the SOA (negative TTL 30) in authority" dig_has nope.$ZONE A "^$ZONE\.\s+30\s+IN\s+SOA" +noall +authority
check "SOA query at the apex" dig_has $ZONE SOA "^$ZONE\.\s+[0-9]+\s+IN\s+SOA\s+ns1\.$ZONE\. hostmaster\.$ZONE\. [0-9]+ 10800 3600 86400 30$" +noall +answer
check "NS query at the apex" dig_has $ZONE NS "^$ZONE\.\s+[0-9]+\s+IN\s+NS\s+ns1\.$ZONE\.$" +noall +answer
check "CNAME chased within the zone" dig_has alias.$ZONE A "^www\.$ZONE\.\s+300\s+IN\s+A\s+198\.18\.2\.1$" +noall +answer
check "outside every zone, error_response ERROR: REFUSED" dig_has other.test A 'status: REFUSED' +noall +comments
check "kdig gets the same A answer" sh -c "ip netns exec $SL_NS_CLI kdig +short @$VIP www.$ZONE A | grep -qx 198.18.2.1"
check "EDNS: OPT echoed with our UDP size" dig_has www.$ZONE A 'EDNS: version: 0, flags:; udp: 1232' +bufsize=4096
check "40 addresses without EDNS: TC=1 (does not fit 512)" dig_has many.$ZONE A 'flags: qr aa tc' +noedns +ignore +noall +comments
check "40 addresses with EDNS 1232: all in one answer" dig_has many.$ZONE A 'ANSWER: 40,' +bufsize=1232 +noall +comments
check "kdig with EDNS 1232 gets all 40 addresses" sh -c "ip netns exec $SL_NS_CLI kdig +bufsize=1232 @$VIP many.$ZONE A | grep -q 'ANSWER: 40'"

out=$(in_cli $PY "$IT_DIR/dns_probe.py" $VIP $ZONE opcode qr case compression \
	malformed "$SL_ROOT/tests/fuzz/dns/corpus" "$SL_ROOT/tests/dataplane/dns/dns_malformed.h" 2>&1)
printf '%s\n' "$out" | grep -E '^(ok|not ok) |^#'
IT_FAILED=$((IT_FAILED + $(grep -c '^not ok ' <<<"$out")))
grep -qE '^(ok|not ok) ' <<<"$out" || not_ok "dns_probe.py runs" "$out"

check "GSLB 6:3:1 over 5000 queries, each member within 2 points" \
	split app.$ZONE 5000 "198.18.3.1:60 198.18.3.2:30 198.18.3.3:10"
check "GSLB 20:20:1 over 5000 queries, each member within 2 points" \
	split web.$ZONE 5000 "198.18.4.1:48.78 198.18.4.2:48.78 198.18.4.3:2.44"

rt=$(api GET /api/gslbservice/it-631/runtime 2>&1)
if $PY -c 'import json,sys; m=json.loads(sys.argv[1])["members"]; assert len(m)==3 and all(x["answers"]>=500 for x in m)' "$rt" 2>/dev/null; then
	ok "per-member answer counters in /api/gslbservice/it-631/runtime"
else
	not_ok "per-member answer counters in /api/gslbservice/it-631/runtime" "$rt"
fi
if api GET /metrics 2>/dev/null | grep -qE '^sluice_gslb_member_answers_total\{gslb="it-631",member="198\.18\.3\.1"\} [1-9][0-9]*$'; then
	ok "per-member answer counters in /metrics"
else
	not_ok "per-member answer counters in /metrics" "$(api GET /metrics 2>&1 | grep gslb | head -5)"
fi

if member_state it-631 198.18.3.1 down; then
	a=$(for i in $(seq 20); do answers_of app.$ZONE; done)
	if grep -q 198.18.3.1 <<<"$a"; then not_ok "member marked down through the API is not answered" "$a"
	else ok "member marked down through the API is not answered"; fi
	member_state it-631 198.18.3.1 up
	a=$(for i in $(seq 20); do answers_of app.$ZONE; done)
	if grep -q 198.18.3.1 <<<"$a"; then ok "member marked up again is answered again"
	else not_ok "member marked up again is answered again" "$a"; fi
else
	not_ok "member marked down through the API is not answered" "PUT /api/gslbservice/it-631/runtime failed"
fi

gslb_put() { # r1 r2 r3 ttl
	api PUT /api/gslbservice/it-631 "{\"name\":\"it-631\",\"domain_names\":[\"app.$ZONE\"],\"ttl\":$4,
	  \"groups\":[{\"name\":\"g\",\"priority\":10,\"algorithm\":\"GSLB_ALGORITHM_ROUND_ROBIN\",\"members\":[
	  {\"ip\":{\"addr\":\"198.18.3.1\",\"type\":\"V4\"},\"ratio\":$1},
	  {\"ip\":{\"addr\":\"198.18.3.2\",\"type\":\"V4\"},\"ratio\":$2},
	  {\"ip\":{\"addr\":\"198.18.3.3\",\"type\":\"V4\"},\"ratio\":$3}]}]}" >/dev/null
}
# Weights and TTL change under load: dnsperf must lose nothing.
printf 'app.%s A\nwww.%s A\n' $ZONE $ZONE >"$TMP/q2"
in_cli dnsperf -s $VIP -d "$TMP/q2" -l 4 -Q 3000 -c 1 -T 1 >"$TMP/live.out" 2>&1 &
perf=$!
fails=0
for i in $(seq 1 20); do
	gslb_put $((i % 20 + 1)) $(((i * 7) % 20 + 1)) 1 $((i % 5 + 1)) || fails=$((fails + 1))
	sleep 0.15
done
wait $perf
if [ $fails -eq 0 ] && grep -q 'Queries lost:         0 ' "$TMP/live.out"; then
	ok "20 weight/TTL changes through the API under 3000 qps: no query lost"
else
	not_ok "20 weight/TTL changes through the API under 3000 qps: no query lost" \
		"failed PUTs: $fails" "$(grep -E 'Queries (sent|completed|lost)' "$TMP/live.out")"
fi
if "${DIG[@]}" app.$ZONE A +noall +answer | grep -qE "^app\.$ZONE\.\s+1\s+IN\s+A"; then
	ok "the last TTL set through the API (1) is served"
else
	not_ok "the last TTL set through the API (1) is served" "$("${DIG[@]}" app.$ZONE A +noall +answer)"
fi

rt=$(api GET /api/virtualservice/it-dns/runtime 2>&1)
if $PY -c 'import json,sys; d=json.loads(sys.argv[1]); s=json.dumps(d); assert "\"queries\"" in s and "nxdomain" in s' "$rt" 2>/dev/null; then
	ok "per-VS DNS counters in /api/virtualservice/it-dns/runtime"
else
	not_ok "per-VS DNS counters in /api/virtualservice/it-dns/runtime" "$rt"
fi
if api GET /metrics 2>/dev/null | grep -q 'sluice_dns_queries_total{vs="it-dns"}'; then
	ok "per-VS DNS counters in /metrics"
else
	not_ok "per-VS DNS counters in /metrics" "$(api GET /metrics 2>&1 | grep -i dns | head -5)"
fi

# Queries over TCP are logged like UDP ones, with their transport.
tcp_logged() {
	local before out
	before=$(wc -l <"$LOGDIR/it-dns.dns.jsonl")
	out=$(in_cli kdig +tcp +time=2 @$VIP www.$ZONE A www.$ZONE A 2>&1) || { echo "$out"; return 1; }
	sleep 0.5
	tail -n +"$((before + 1))" "$LOGDIR/it-dns.dns.jsonl" | $PY -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin]
tcp = [r for r in recs if r.get("transport") == "tcp" and r["qname"].rstrip(".") == sys.argv[1]]
print(f"{len(tcp)} TCP records of {len(recs)}: {tcp[:1]}")
sys.exit(0 if len(tcp) == 2 and all(r["rcode"] == "NOERROR" and r["answers"] for r in tcp) else 1)' "www.$ZONE"
}
check "two queries on one TCP connection: two query-log records with transport tcp" tcp_logged

if config DNS_ERROR_RESPONSE_NONE | "$SL_CTL" apply -f /dev/stdin >/dev/null 2>&1 &&
	! "${DIG[@]}" other.test A >/dev/null 2>&1; then
	ok "outside every zone, error_response NONE: no answer"
else
	not_ok "outside every zone, error_response NONE: no answer"
fi
check "still answering after the profile change" dig_has www.$ZONE A '198\.18\.2\.1' +short
check "engine stops on SIGTERM" engine_stop
it_done
