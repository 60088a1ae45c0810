#!/usr/bin/env bash
# The sharded dataset build on a real Slurm: starts a single-node cluster on this machine
# (slurmctld, slurmd and a munged of its own, configured in a temporary directory), runs the job
# array of scripts/slurm/dataset.sbatch and the dependent merge of scripts/slurm/merge.sbatch,
# and checks that the merged dataset equals an unsharded build. Installs Debian's Slurm and
# MUNGE packages when they are missing. Needs root (slurmd launches the jobs) and python3.
# Every daemon it starts is stopped on exit, and the temporary directory removed.
#
# For measuring rather than testing, the environment may name another spec and number of parts
# (KRYLOV_CLUSTER_SPEC=docs/datasets/default-train.json KRYLOV_CLUSTER_PARTS=2) and a longer
# wait for the jobs (KRYLOV_CLUSTER_TIMEOUT, seconds, default 120); the wall times of the
# unsharded build and of the array with its merge are printed. KRYLOV_CLUSTER_WHOLE=DIR compares
# with an unsharded build of that spec made beforehand instead of building it again.
set -euo pipefail
usage="usage: scripts/test-cluster.sh KRYLOV_BINARY"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:?$usage}"
[ -x "$bin" ] || { echo "test-cluster: no executable at $bin ($usage)" >&2; exit 2; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
# A spec to measure with instead of the tiny one, and an unsharded build of it (see above),
# resolved before any cd.
whole_source="${KRYLOV_CLUSTER_WHOLE:+$(cd "$KRYLOV_CLUSTER_WHOLE" && pwd)}"
spec_source="${KRYLOV_CLUSTER_SPEC:+$(cd "$(dirname "$KRYLOV_CLUSTER_SPEC")" && pwd)/$(basename "$KRYLOV_CLUSTER_SPEC")}"
export PATH="$PATH:/usr/sbin:/sbin"
started=$SECONDS

say() { echo "test-cluster: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo "$0" "$bin"; fi
  echo "test-cluster: needs root (slurmd launches the jobs)" >&2
  exit 2
fi
command -v python3 >/dev/null 2>&1 || { echo "test-cluster: needs python3" >&2; exit 2; }

# --- Packages -------------------------------------------------------------------------------
missing=""
for tool in slurmctld slurmd sbatch munged; do command -v "$tool" >/dev/null 2>&1 || missing=1; done
if [ -n "$missing" ]; then
  command -v apt-get >/dev/null 2>&1 || {
    echo "test-cluster: install Slurm (slurmctld, slurmd, client tools) and MUNGE first" >&2; exit 2; }
  say "installing slurmctld slurmd slurm-client munge (apt-get)"
  # Keep the packages from starting their own daemons: this test runs its own.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    trap 'rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
  fi
  aptlog="$(mktemp)"
  status=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      slurmctld slurmd slurm-client munge; } >"$aptlog" 2>&1 || status=$?
  if [ -n "$policy" ]; then rm -f "$policy"; trap - EXIT; fi
  if [ "$status" -ne 0 ]; then
    tail -n 30 "$aptlog" >&2
    rm -f "$aptlog"
    echo "test-cluster: apt-get install failed" >&2
    exit 1
  fi
  rm -f "$aptlog"
  say "packages installed in $((SECONDS - started)) s"
fi
getent passwd munge >/dev/null || { echo "test-cluster: no munge user (is munge installed?)" >&2; exit 1; }

# --- State, cleanup, reporting ----------------------------------------------------------------
# Under /tmp whatever TMPDIR says: the munge user must reach its socket there, and a socket's
# path is short.
tmp="$(mktemp -d /tmp/krylov-cluster.XXXXXX)"
chmod 755 "$tmp"   # the munge user must reach its directory inside
pids=()            # daemons this script started
jobs_submitted=()
passed=0
failed=0
finished=""

logs() {
  local f
  for f in "$tmp"/log/slurmctld.log "$tmp"/log/slurmd.log "$tmp"/log/munged.stderr "$tmp"/work/*.out \
    "$tmp"/work/*.err; do
    [ -s "$f" ] || continue
    echo "----- ${f#"$tmp"/} (last 30 lines)"
    tail -n 30 "$f"
  done >&2
  for f in slurmctld slurmd; do
    if [ ! -s "$tmp/log/$f.log" ] && [ -s "$tmp/log/$f.stderr" ]; then
      echo "----- log/$f.stderr (last 30 lines)" >&2
      tail -n 30 "$tmp/log/$f.stderr" >&2
    fi
  done
}

summary() {
  finished=1
  say "$((SECONDS - started)) s"
  echo "$passed passed, $failed failed"
}

cleanup() {
  local status=$?
  set +e
  trap '' PIPE   # a closed output must not stop the cleanup halfway
  if [ -z "$finished" ]; then
    failed=$((failed + 1))
    say "FAIL: stopped early (exit $status)" >&2
    logs
    summary
    [ "$status" -eq 0 ] && status=1
  fi
  if [ ${#jobs_submitted[@]} -gt 0 ] && [ -n "${SLURM_CONF:-}" ]; then
    scancel "${jobs_submitted[@]}" 2>/dev/null
    for _ in $(seq 1 50); do
      [ -z "$(squeue -h -t PD,R,CG,CF 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT

die() {  # setup failure: say why, show the logs, stop
  say "FAIL: $*" >&2
  failed=$((failed + 1))
  logs
  summary
  exit 1
}

check() {  # check NAME COMMAND...: one counted result
  local name="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
    say "ok: $name"
  else
    failed=$((failed + 1))
    say "FAIL: $name" >&2
  fi
}

# --- MUNGE: a daemon, key and socket of our own --------------------------------------------------
mkdir -p "$tmp/munge" "$tmp/log" "$tmp/state" "$tmp/spool" "$tmp/work"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chown -R munge:munge "$tmp/munge"
chmod 755 "$tmp/munge"   # clients reach the socket; the key itself is the munge user's alone
chmod 400 "$tmp/munge/munge.key"
socket="$tmp/munge/munge.socket"
setpriv --reuid=munge --regid=munge --init-groups \
  munged --foreground --key-file="$tmp/munge/munge.key" --socket="$socket" \
  --pid-file="$tmp/munge/munged.pid" --seed-file="$tmp/munge/munged.seed" >"$tmp/log/munged.stderr" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  munge -n -S "$socket" 2>/dev/null | unmunge -S "$socket" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || die "munged exited"
  sleep 0.1
done
munge -n -S "$socket" 2>/dev/null | unmunge -S "$socket" >/dev/null 2>&1 || die "munged does not answer"
say "munged up"

# --- Slurm configuration ------------------------------------------------------------------------
host="$(hostname)"
if getent hosts "$host" >/dev/null 2>&1; then controller="$host"; else controller=localhost; fi
# The node as slurmd measures it: a larger RealMemory would keep the node invalid.
node="$(slurmd -C | head -n 1)"
case "$node" in NodeName=*) ;; *) die "slurmd -C printed no node line: $node" ;; esac
read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
export SLURM_CONF="$tmp/slurm.conf"
cat > "$SLURM_CONF" <<EOF
ClusterName=krylovtest
SlurmctldHost=$controller
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# proctrack/cgroup does not work everywhere (and a job then seems to succeed without running).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
# Tasks share the node by cores and memory (--mem from 'krylov dataset plan').
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
# Finished jobs leave quickly and sbatch --wait polls every 2 s; batch jobs start at once.
MinJobAge=5
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -f "$SLURM_CONF" >"$tmp/log/slurmctld.stderr" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$tmp/log/slurmd.stderr" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 1 100); do
  state="$(sinfo -h -N -o %T 2>/dev/null | head -n 1)"
  [ "$state" = idle ] && break
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || die "a Slurm daemon exited"; done
  sleep 0.2
done
[ "$state" = idle ] || die "the node is not idle after 20 s (state: ${state:-none})"
say "slurmctld and slurmd up, node $host idle ($((SECONDS - started)) s)"

# --- The dataset: unsharded, then as a job array and a dependent merge ---------------------------
cd "$tmp/work"
if [ -n "$spec_source" ]; then
  cp "$spec_source" spec.json || die "cannot read KRYLOV_CLUSTER_SPEC=$KRYLOV_CLUSTER_SPEC"
else
  cat > spec.json <<'EOF'
{ "name": "tiny", "seed": 3, "steps": 40,
  "groups": [ { "model": "mfim", "sizes": [5, 6], "operators": ["sz_total", "sx_total"], "samples": 3,
                "parameters": { "g": { "range": [-1.3, -0.8] } } },
              { "model": "tfim", "sizes": ["inf"], "operators": ["sz_total"], "steps": 12,
                "parameters": { "g": { "values": [0.7, 1.3] } } } ] }
EOF
fi
whole_started=$SECONDS
if [ -n "$whole_source" ]; then
  cp -r "$whole_source" whole || die "cannot copy KRYLOV_CLUSTER_WHOLE=$KRYLOV_CLUSTER_WHOLE"
  say "unsharded build: copied from $whole_source"
else
  "$bin" dataset build --spec spec.json --out whole -q || die "the unsharded build failed"
  say "unsharded build: $((SECONDS - whole_started)) s"
fi
mem="$("$bin" dataset plan --spec spec.json | sed -n 's/^mem_mib=//p')"
[ -n "$mem" ] || die "dataset plan printed no mem_mib"
say "unsharded build done; --mem=$mem (dataset plan)"

export KRYLOV="$bin"
parts="${KRYLOV_CLUSTER_PARTS:-4}"
array_started=$SECONDS
submitted() {  # submitted FILE: the job id sbatch --parsable wrote (it does so before waiting)
  local id=""
  for _ in $(seq 1 100); do
    id="$(head -n 1 "$1" 2>/dev/null)"
    id="${id%%;*}"
    [ -n "$id" ] && break
    sleep 0.1
  done
  echo "$id"
}
# Both sbatch --wait run in the background: the array's exits with the largest exit status of its
# tasks, the merge's once the merge job, started by Slurm when every task succeeded (afterok), ends.
sbatch --parsable --wait --array=0-$((parts - 1)) --mem="$mem" \
  "$root/scripts/slurm/dataset.sbatch" spec.json parts >array.id 2>array.err &
array_pid=$!
array="$(submitted array.id)"
[ -n "$array" ] || die "sbatch of the array printed no job id: $(cat array.err)"
jobs_submitted+=("$array")
say "array job $array submitted: sbatch --wait --array=0-$((parts - 1)) --mem=$mem dataset.sbatch spec.json parts"
sbatch --parsable --wait --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  "$root/scripts/slurm/merge.sbatch" parts >merge.id 2>merge.err &
merge_pid=$!
merge="$(submitted merge.id)"
[ -n "$merge" ] || die "sbatch of the merge printed no job id: $(cat merge.err)"
jobs_submitted+=("$merge")
say "merge job $merge submitted: sbatch --wait --dependency=afterok:$array merge.sbatch parts"

# Wait for both, but give up at once if the node drains (a job step that cannot start drains
# it, and the remaining tasks would wait forever), and after KRYLOV_CLUSTER_TIMEOUT (two minutes).
timeout="${KRYLOV_CLUSTER_TIMEOUT:-120}"
limit=$((SECONDS + timeout))
while kill -0 "$array_pid" 2>/dev/null || kill -0 "$merge_pid" 2>/dev/null; do
  node_state="$(sinfo -h -N -o %T 2>/dev/null | head -n 1)"
  case "$node_state" in
    *drain* | down* | fail*)
      say "node $node_state: $(sinfo -h -N -o %E 2>/dev/null | head -n 1)" >&2
      break ;;
  esac
  if [ "$SECONDS" -ge "$limit" ]; then
    say "jobs still not done after $timeout s:" >&2
    squeue >&2 || true
    break
  fi
  sleep 0.5
done
kill "$array_pid" "$merge_pid" 2>/dev/null || true
array_status=0
wait "$array_pid" || array_status=$?
merge_status=0
wait "$merge_pid" || merge_status=$?
say "array and merge done (sbatch --wait exit $array_status and $merge_status; $((SECONDS - array_started)) s for the array and its merge, $((SECONDS - started)) s in all)"

array_done() {
  local i ok=0
  [ "$array_status" -eq 0 ] || ok=1
  for i in $(seq 0 $((parts - 1))); do
    if [ ! -s "parts/manifest.shard-$i-of-$parts.json" ]; then
      say "missing parts/manifest.shard-$i-of-$parts.json" >&2; ok=1
    fi
    if ! grep -q "part $i/$parts done" "krylov-dataset-${array}_$i.out" 2>/dev/null; then
      say "task $i: no 'part $i/$parts done' in krylov-dataset-${array}_$i.out" >&2; ok=1
    fi
  done
  return $ok
}
merge_done() {
  # The job ran (its output says how many sequences it joined) and wrote the dataset's manifest.
  [ "$merge_status" -eq 0 ] && [ -s parts/manifest.json ] &&
    grep -qE 'krylov: ([0-9]+) of \1 sequences' "krylov-merge-$merge.out" 2>/dev/null
}
same_dataset() {
  python3 - whole parts <<'EOF'
import json, os, sys

def contents(directory):
    path = os.path.join(directory, "manifest.json")
    if not os.path.exists(path):
        sys.exit(f"test-cluster: no {path}")
    with open(path) as f:
        manifest = json.load(f)
    if manifest.get("complete") is not True:
        sys.exit(f"test-cluster: {path} is not complete")
    entries, coefficients = [], []
    for entry in manifest["entries"]:
        entries.append({k: json.dumps(v, sort_keys=True) for k, v in entry.items() if k != "seconds"})
        with open(os.path.join(directory, entry["file"])) as f:
            coefficients.append(json.load(f)["b"])
    return entries, coefficients

whole, merged = contents(sys.argv[1]), contents(sys.argv[2])
if whole[0] != merged[0]:
    sys.exit(f"test-cluster: entries differ: {len(whole[0])} unsharded, {len(merged[0])} merged")
if whole[1] != merged[1]:
    sys.exit("test-cluster: coefficients differ")
print(f"test-cluster: {len(whole[0])} sequences, entries and coefficients identical")
EOF
}

check "array of $parts tasks completed, every part manifest present" array_done
check "merge (afterok on the array) succeeded" merge_done
check "merged dataset equals the unsharded build" same_dataset

if [ "$failed" -ne 0 ]; then
  logs
  summary
  exit 1
fi
summary
