# Sourced by the benchmarks (scripts/bench-deploy, scripts/bench-list): one moto_server on a
# free loopback port, optionally behind the test proxy that holds every call $latency ms
# (tests/testkit's delay-proxy), and the counters read from moto's recorder and the proxy.
#
# Needs $work (a temporary folder) and $latency (0: no proxy). Sets $endpoint (moto), $via
# (what the tools talk to: the proxy, or moto), and AWS_* for a test account.

bench_aws_start() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  endpoint=http://127.0.0.1:$port
  MOTO_RECORDER_FILEPATH=$work/moto_recording moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  proxy_pid=
  trap 'kill $moto_pid $proxy_pid 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 100); do curl -fs "$endpoint/moto-api/" >/dev/null && break; sleep 0.1; done
  # Calls are counted at moto's recorder either way.
  via=$endpoint
  if [ "$latency" != 0 ]; then
    "${DELAY_PROXY:-target/release/delay-proxy}" "$endpoint" "$latency" "$work/spans" >"$work/proxy.out" 2>&1 &
    proxy_pid=$!
    for _ in $(seq 100); do [ -s "$work/proxy.out" ] && break; sleep 0.05; done
    via=$(head -1 "$work/proxy.out")
  fi
  export AWS_ENDPOINT_URL=$via AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
}

record() { curl -fs -X POST "$endpoint/moto-api/recorder/reset-recording" >/dev/null
           curl -fs -X POST "$endpoint/moto-api/recorder/start-recording" >/dev/null; }
calls() { curl -fs "$endpoint/moto-api/recorder/download-recording" | grep -vc '/moto-api/' || true; }

# in_a_row LABEL START END: the longest chain of calls the proxy answered between START and
# END (seconds since the epoch) that did not overlap, or "-" without the proxy; the chain's
# calls, one a line, go to $work/chain-LABEL.
in_a_row() {
  [ "$latency" != 0 ] && [ "$AWS_ENDPOINT_URL" = "$via" ] || { echo -; return; }
  sleep 0.1 # the proxy writes its spans every 20 ms
  python3 - "$work/spans" "$2" "$3" "$work/chain-$1" <<'PY'
import sys
start, end = float(sys.argv[2]), float(sys.argv[3])
spans = []
for line in open(sys.argv[1]):
    s, e, call = line.rstrip("\n").split(" ", 2)
    if float(s) >= start and float(e) <= end:
        spans.append((float(s), float(e), call))
spans.sort()
chain, back = [], []
for i, (s, _, _) in enumerate(spans):
    before = [j for j in range(i) if spans[j][1] <= s]
    j = max(before, key=lambda j: chain[j], default=None)
    chain.append(1 + (chain[j] if j is not None else 0))
    back.append(j)
i = max(range(len(chain)), key=lambda i: chain[i], default=None)
path = []
while i is not None:
    path.append(spans[i][2])
    i = back[i]
with open(sys.argv[4], "w") as out:
    out.write("".join(f"  {n}. {call}\n" for n, call in enumerate(reversed(path), 1)))
print(max(chain, default=0))
PY
}

# timed LABEL CMD...: runs CMD with moto recording, appends "LABEL seconds calls in-a-row"
# to $work/results.
timed() {
  local label=$1; shift
  record
  local start end
  start=$(date +%s.%N)
  "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$label $(echo "$end - $start" | bc) $(calls) $(in_a_row "$label" "$start" "$end")" >>"$work/results"
}
