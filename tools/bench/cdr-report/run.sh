#!/usr/bin/env bash
# CDR reports over 1,000,000 CDRs (docs/REPORTS.md, "Benchmark"): `vosctl report` against the same
# GROUP BY in PostgreSQL on the same machine, in one run.
#
#   1. generate.swift (compiled -O with VOSModel's and VOSStore's sources) writes COUNT CDRs into a
#      fresh vos store through `appendCDR` (as the controller's ledger does: CDR JSON + report
#      fact, 10,000 per transaction), and the same CDRs, every column, into a CSV file;
#   2. vos: `vosctl report --by gateway`, `--by hour`, and `--by hour` over one day
#      (`--since 2026-11-15 --until 2026-11-16`), each the median of RUNS runs of the whole
#      process (start, store open, scan, aggregation, printing the table);
#   3. PostgreSQL (the Debian package; a throwaway cluster in the work directory, Unix socket
#      only, shared_buffers 1GB, work_mem 64MB, parallel query on): the CSV loaded with \copy
#      into a `cdrs` table with every CDR column, VACUUM ANALYZE, a b-tree index on setup time;
#      the same three reports as one SQL statement each (attempts, answered, ASR, NER, ACD, PDD
#      percentile_disc 0.5/0.95, minutes, revenue, cost, margin, top 3 failure codes), timed as
#      the whole `psql` process, median of RUNS;
#   4. the totals of both (attempts, answered, effective, billed seconds, revenue, cost, PDD
#      p50/p95) must agree, else the run fails;
#   5. an old store: the report index emptied (generate --drop-index), then `vosctl report --by
#      gateway` indexes every CDR from its JSON once (that time is also what a report costs
#      without the index), then the report again.
# Both read from a warm page cache (everything was just written). vos uses one core, PostgreSQL
# up to three processes (parallel workers).
#
# Usage: tools/bench/cdr-report/run.sh
# Env:   COUNT (CDRs, default 1000000), RUNS (default 3), SCRATCH (swift scratch path for the
#        release vosctl, default .build-bench), VOS_BIN (directory with a prebuilt release
#        vosctl: no build), MAX_MINUTES (default 30), KEEP_WORK=1 (keep the store, CSV, cluster)
# Output: a Markdown table of seconds and the vos/PostgreSQL ratio, then sizes.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$ROOT"
export PATH="/opt/swift/usr/bin:$PATH"
COUNT="${COUNT:-1000000}"
RUNS="${RUNS:-3}"
PGPORT=54329

bash tools/setup.sh --bench >/dev/null
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
[ -x "$PGBIN/initdb" ] || { echo "bench: no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 1; }
if [ -n "${VOS_BIN:-}" ]; then
  BIN="$VOS_BIN"
else
  swift build -c release --product vosctl --scratch-path "${SCRATCH:-.build-bench}" >/dev/null
  BIN="$(swift build -c release --scratch-path "${SCRATCH:-.build-bench}" --show-bin-path)"
fi
VOSCTL="$BIN/vosctl"

WORK="$(mktemp -d /tmp/vos-cdr-report.XXXXXX)"
chmod 711 "$WORK"
PG_STARTED=""
WATCHDOG=""
cleanup() {
  if [ -n "$PG_STARTED" ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM
(sleep $((${MAX_MINUTES:-30} * 60)); echo "bench: stopped after ${MAX_MINUTES:-30} minutes (MAX_MINUTES)" >&2; kill -TERM $$) &
WATCHDOG=$!

now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
timed() {  # RUNS runs of "$@" (stdout discarded), prints the median seconds
  local times="" start
  for _ in $(seq "$RUNS"); do
    start=$(now)
    "$@" >/dev/null
    times+=" $(elapsed "$start")"
  done
  echo "$times" | median
}

echo "== building the generator" >&2
mkdir "$WORK/gen"
for file in Sources/VOSStore/*.swift; do
  grep -q '^import Crypto' "$file" && continue
  sed '/^import VOSModel$/d' "$file" >"$WORK/gen/Store-$(basename "$file")"
done
cp tools/bench/cdr-report/generate.swift "$WORK/gen/main.swift"
cp Tests/VOSTestSupport/SeededGenerator.swift "$WORK/gen/SeededGenerator.swift"
swiftc -O -wmo -module-name CDRBench -I Sources/CLMDB Sources/VOSModel/*.swift "$WORK/gen"/*.swift -o "$WORK/generate" 2>"$WORK/gen/build.log" \
  || { cat "$WORK/gen/build.log" >&2; exit 1; }

echo "== generating $COUNT CDRs" >&2
start=$(now)
"$WORK/generate" "$WORK/vos" "$WORK/cdrs.csv" "$COUNT" >&2
GENERATE_SECONDS=$(elapsed "$start")

vos() { "$VOSCTL" --data-dir "$WORK/vos" "$@"; }
echo "== vos" >&2
vos report >/dev/null  # nothing to index: the generator wrote the facts with the CDRs
VOS_GATEWAY=$(timed vos report --by gateway)
VOS_HOUR=$(timed vos report --by hour)
VOS_DAY=$(timed vos report --by hour --since 2026-11-15 --until 2026-11-16)
vos report --by gateway --csv >"$WORK/vos-gateway.csv"
vos report --by gateway >"$WORK/vos-gateway.txt"

echo "== PostgreSQL" >&2
mkdir "$WORK/pg"
chown postgres: "$WORK/pg"
chmod o+r "$WORK/cdrs.csv"
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U postgres --no-sync >"$WORK/pg/initdb.log"
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w \
  -o "-c listen_addresses='' -k $WORK/pg -p $PGPORT -c shared_buffers=1GB -c work_mem=64MB -c fsync=off" start >/dev/null
PG_STARTED=1
pg() { psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/pg" -p "$PGPORT" -U postgres -d postgres "$@"; }
start=$(now)
pg <<SQL
CREATE TABLE cdrs (
  id bigint PRIMARY KEY, call_id text, setup_ms bigint NOT NULL, ringing_ms bigint, answer_ms bigint, end_ms bigint,
  pdd_ms integer, duration_s integer, billed_s integer, caller_in text, callee_in text, caller_out text, callee_out text,
  account text, mapping_gw text, routing_gw text, caller_codec text, callee_codec text, end_reason text, sip_code integer,
  hangup text, customer_cost numeric(18,4), vendor_cost numeric(18,4));
\copy cdrs FROM '$WORK/cdrs.csv' WITH (FORMAT csv)
CREATE INDEX cdrs_setup ON cdrs (setup_ms);
VACUUM ANALYZE cdrs;
SQL
PG_LOAD_SECONDS=$(elapsed "$start")

# One report as SQL: $1 the group expression, $2 the window, $3 the row label made from k
# (time groups are grouped as integers and formatted once per row).
report_sql() {
  cat <<SQL
WITH c AS (SELECT $1 AS k, * FROM cdrs $2),
g AS (
  SELECT k, count(*) AS attempts, count(*) FILTER (WHERE answer_ms IS NOT NULL) AS answered,
    count(*) FILTER (WHERE answer_ms IS NOT NULL OR sip_code IN (480, 486, 600, 603) OR end_reason = 'RingingTimeout'
                     OR (end_reason = 'CallerCancel' AND pdd_ms IS NOT NULL)) AS effective,
    sum(duration_s) FILTER (WHERE answer_ms IS NOT NULL) AS connected_s,
    percentile_disc(0.5) WITHIN GROUP (ORDER BY pdd_ms) AS pdd_p50,
    percentile_disc(0.95) WITHIN GROUP (ORDER BY pdd_ms) AS pdd_p95,
    sum(billed_s) AS billed_s, sum(customer_cost) AS revenue, sum(vendor_cost) AS cost
  FROM c GROUP BY k),
f AS (
  SELECT k, sip_code, count(*) AS n, row_number() OVER (PARTITION BY k ORDER BY count(*) DESC, sip_code) AS r
  FROM c WHERE answer_ms IS NULL GROUP BY k, sip_code),
top AS (SELECT k, string_agg(sip_code || ':' || n, ' ' ORDER BY r) AS top_failures FROM f WHERE r <= 3 GROUP BY k)
SELECT $3 AS key, attempts, answered, effective, round(answered::numeric / attempts, 4) AS asr,
  round(effective::numeric / attempts, 4) AS ner, round(connected_s::numeric / nullif(answered, 0), 1) AS acd_s,
  pdd_p50, pdd_p95, round(billed_s / 60.0, 2) AS minutes, revenue, cost, revenue - cost AS margin,
  top_failures, billed_s
FROM g LEFT JOIN top USING (k) ORDER BY attempts DESC, k;
SQL
}
HOUR_LABEL="to_char(to_timestamp(k * 3600) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00\"Z\"')"
DAY_WINDOW="WHERE setup_ms >= 1795219200000 AND setup_ms < 1795305600000"  # 2026-11-15 .. 2026-11-16 UTC
report_sql "coalesce(routing_gw, '-')" "" k >"$WORK/gateway.sql"
report_sql "setup_ms / 3600000" "" "$HOUR_LABEL" >"$WORK/hour.sql"
report_sql "setup_ms / 3600000" "$DAY_WINDOW" "$HOUR_LABEL" >"$WORK/day.sql"
report_sql "'total'" "" k >"$WORK/total.sql"
PG_GATEWAY=$(timed pg -A -f "$WORK/gateway.sql")
PG_HOUR=$(timed pg -A -f "$WORK/hour.sql")
PG_DAY=$(timed pg -A -f "$WORK/day.sql")
pg -A -F ',' -t -f "$WORK/gateway.sql" >"$WORK/pg-gateway.csv"
pg -A -F ',' -t -f "$WORK/total.sql" >>"$WORK/pg-gateway.csv"

echo "== every gateway row and the total: vos and PostgreSQL must agree" >&2
python3 - "$WORK/vos-gateway.csv" "$WORK/pg-gateway.csv" <<'PY'
import csv, sys
vos = {row["key"]: row for row in csv.DictReader(open(sys.argv[1]))}
# PostgreSQL: key, attempts, answered, effective, asr, ner, acd_s, p50, p95, minutes, revenue, cost, margin, top, billed_s
columns = {"attempts": 1, "answered": 2, "effective": 3, "asr": 4, "ner": 5, "pdd_p50_ms": 7, "pdd_p95_ms": 8,
           "minutes": 9, "revenue": 10, "cost": 11, "margin": 12, "top_failure_codes": 13, "billed_s": 14}
pg = {row[0]: row for row in csv.reader(open(sys.argv[2]))}
problems = []
if sorted(vos) != sorted(pg):
    problems.append(f"groups differ: vos {sorted(vos)} postgres {sorted(pg)}")
for key in sorted(set(vos) & set(pg)):
    for name, index in columns.items():
        mine, theirs = vos[key][name], pg[key][index]
        if name == "top_failure_codes":
            theirs = theirs.replace(" ", ";")
        if mine != theirs:
            problems.append(f"{key} {name}: vos {mine} postgres {theirs}")
total = vos.get("total", {})
print(f"  {len(vos) - 1} gateway rows and the total compared; total attempts {total.get('attempts')}, "
      f"answered {total.get('answered')}, revenue {total.get('revenue')}, cost {total.get('cost')}", file=sys.stderr)
if problems:
    sys.exit("bench: vos and PostgreSQL disagree:\n  " + "\n  ".join(problems[:20]))
print("  all equal", file=sys.stderr)
PY

echo "== an old store: report index emptied, then indexed by the first report" >&2
"$WORK/generate" --drop-index "$WORK/vos" >&2
start=$(now)
vos report --by gateway >/dev/null 2>"$WORK/reindex.log"
REINDEX_SECONDS=$(elapsed "$start")
cat "$WORK/reindex.log" >&2
VOS_AFTER=$(timed vos report --by gateway)

DATA_BYTES=$(stat -c %s "$WORK/vos/data.mdb")
facts_pages=$(mdb_stat -s cdr_report_facts "$WORK/vos" | awk '/Branch pages|Leaf pages|Overflow pages/ { s += $3 } END { print s }')
cdr_pages=$(mdb_stat -s cdrs "$WORK/vos" | awk '/Branch pages|Leaf pages|Overflow pages/ { s += $3 } END { print s }')
PG_BYTES=$(pg -A -t -c "SELECT pg_total_relation_size('cdrs')")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo
echo "CDR report benchmark, $COUNT CDRs, $(date -u +%Y-%m-%d), $(nproc) cores, vosctl: $BIN ($(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')), PostgreSQL $("$PGBIN/postgres" --version | awk '{ print $3 }'); median of $RUNS runs"
echo
echo "| report | vos (s) | PostgreSQL (s) | vos / PostgreSQL |"
echo "|---|---|---|---|"
echo "| --by gateway, all $COUNT | $VOS_GATEWAY | $PG_GATEWAY | $(ratio "$VOS_GATEWAY" "$PG_GATEWAY") |"
echo "| --by hour, all $COUNT | $VOS_HOUR | $PG_HOUR | $(ratio "$VOS_HOUR" "$PG_HOUR") |"
echo "| --by hour, one day (--since/--until) | $VOS_DAY | $PG_DAY | $(ratio "$VOS_DAY" "$PG_DAY") |"
echo
echo "| other | seconds |"
echo "|---|---|"
echo "| generate (vos appendCDR + CSV) | $GENERATE_SECONDS |"
echo "| PostgreSQL load (\\copy, index, VACUUM ANALYZE) | $PG_LOAD_SECONDS |"
echo "| vos: first report of an old store (index built from the CDR JSON) | $REINDEX_SECONDS |"
echo "| vos: the same report afterwards | $VOS_AFTER |"
echo
echo "sizes: vos data.mdb $((DATA_BYTES / 1048576)) MiB (cdrs $((cdr_pages * 4096 / 1048576)) MiB, cdr_report_facts $((facts_pages * 4096 / 1048576)) MiB, $((facts_pages * 4096 / COUNT)) B a fact); PostgreSQL cdrs with indexes $((PG_BYTES / 1048576)) MiB"
echo
echo "vos --by gateway (first rows):"
head -5 "$WORK/vos-gateway.txt"
