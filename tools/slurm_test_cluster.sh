#!/usr/bin/env bash
# A one-node Slurm cluster on this machine for the `slurm` tests (ctest fixture, tests/slurm):
#
#   tools/slurm_test_cluster.sh start DIR   # munged + slurmctld + slurmd with DIR/slurm.conf
#   tools/slurm_test_cluster.sh stop DIR    # cancels its jobs, stops exactly the daemons it started
#
# Everything lives under DIR: slurm.conf, state, spool, logs, its own munge key and socket (so no
# system munged or Slurm configuration is needed or touched) and DIR/pids, the daemons' process ids.
# Ports are picked free at start. When Slurm cannot start here (packages missing, not root, a
# daemon exits), `start` writes the reason to DIR/unavailable and exits 0: the tests then skip
# with that reason. Packages: `bash tools/setup.sh --slurm` (Debian's slurmctld slurmd
# slurm-client munge).
set -uo pipefail
action=${1:?usage: slurm_test_cluster.sh start|stop DIR}
dir=${2:?usage: slurm_test_cluster.sh start|stop DIR}

unavailable() {
  echo "$*" >"$dir/unavailable"
  echo "slurm test cluster: unavailable: $*"
  exit 0
}

stop_daemons() {
  [ -f "$dir/pids" ] || return 0
  if [ -f "$dir/slurm.conf" ] && command -v squeue >/dev/null; then
    jobs=$(SLURM_CONF="$dir/slurm.conf" squeue -h -o %A 2>/dev/null | sort -u)
    [ -n "$jobs" ] && SLURM_CONF="$dir/slurm.conf" scancel $jobs 2>/dev/null
    for _ in $(seq 20); do
      [ -z "$(SLURM_CONF="$dir/slurm.conf" squeue -h -o %A 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  # Reverse start order: slurmd, slurmctld, munged.
  for pid in $(tac "$dir/pids"); do kill "$pid" 2>/dev/null; done
  for pid in $(cat "$dir/pids"); do
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null
  done
  rm -f "$dir/pids"
}

# A TCP port nobody listens on (from /proc/net/tcp*: local address column, state 0A = LISTEN).
free_port() {
  local port
  for port in $(shuf -i 20000-45000 -n 50); do
    hex=$(printf '%04X' "$port")
    grep -qiE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:[0-9A-F]+ 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$port"; return; }
  done
  echo 0
}

if [ "$action" = stop ]; then
  stop_daemons
  echo "slurm test cluster: stopped"
  exit 0
fi
[ "$action" = start ] || { echo "usage: slurm_test_cluster.sh start|stop DIR" >&2; exit 2; }

stop_daemons  # a previous fixture that was not stopped (a killed ctest)
rm -rf "$dir"
mkdir -p "$dir"/{state,spool,log}
for program in munged slurmctld slurmd sbatch squeue scontrol scancel; do
  command -v "$program" >/dev/null || unavailable "'$program' is not installed (bash tools/setup.sh --slurm installs Debian's slurmctld slurmd slurm-client munge)"
done
[ "$(id -u)" -eq 0 ] || unavailable "the one-node cluster runs its daemons as root (SlurmUser=root), and this is uid $(id -u)"

host=$(hostname -s)
ctld_port=$(free_port)
slurmd_port=$(free_port)
[ "$ctld_port" != 0 ] && [ "$slurmd_port" != 0 ] && [ "$ctld_port" != "$slurmd_port" ] || unavailable "no free TCP port found"
cpus=$(nproc)

# Its own munge key and socket: no system munged needed, none touched.
dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none && chmod 400 "$dir/munge.key"
munged --foreground --force -S "$dir/munge.socket" --key-file "$dir/munge.key" --pid-file "$dir/munged.pid" \
  --seed-file "$dir/munge.seed" --log-file "$dir/log/munged.log" >"$dir/log/munged.out" 2>&1 &
echo $! >>"$dir/pids"
for _ in $(seq 40); do [ -S "$dir/munge.socket" ] && break; sleep 0.25; done
[ -S "$dir/munge.socket" ] || { stop_daemons; unavailable "munged did not start: $(tail -3 "$dir/log/munged.out" | tr '\n' ' ')"; }

# The recipe verified on Debian 12 without systemd (shared/spec/sweeps-notes.md B.5), plus its own
# munge socket, and a short credential lifetime: a requeued job waits cred_expire seconds before it
# may start again (120 s by default).
cat >"$dir/slurm.conf" <<EOF
ClusterName=abqtest
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket,cred_expire=10
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobRequeue=1
MaxArraySize=1001
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
KillWait=5
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
echo $! >>"$dir/pids"
slurmd -D -f "$SLURM_CONF" -N "$host" >"$dir/log/slurmd.out" 2>&1 &
echo $! >>"$dir/pids"

for _ in $(seq 60); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1)
  [ "$state" = idle ] && { echo "slurm test cluster: up on $host (ports $ctld_port/$slurmd_port), SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.5
done
why="node state '${state:-none}' after 30 s; slurmctld: $(tail -2 "$dir/log/slurmctld.log" 2>/dev/null | tr '\n' ' ') slurmd: $(tail -2 "$dir/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"
stop_daemons
unavailable "Slurm did not come up: $why"
