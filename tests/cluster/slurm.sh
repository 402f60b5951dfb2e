#!/usr/bin/env bash
# Start (or stop) a single-node SLURM on this machine for the cluster test: slurmctld + slurmd + munge.
#   tests/cluster/slurm.sh start STATE_DIR   installs the Debian packages if missing, writes /etc/slurm/slurm.conf
#                                            and gres.conf (one fake GPU), starts the daemons, waits for the node
#   tests/cluster/slurm.sh stop STATE_DIR    stops the daemons it started (by their PIDs) and their job steps
# Needs root and apt-get (the test skips with a reason otherwise). SLURM 22.05 (Debian 12).
set -euo pipefail
action=$1
state=$(realpath -m "$2")

if [ "$action" = stop ]; then
    pids=()
    for name in slurmd slurmctld munged; do
        if [ -f "$state/$name.pid" ]; then pids+=("$(cat "$state/$name.pid")"); fi
    done
    # The cluster's jobs end first, while the daemons they report to still run: a step still being cancelled keeps
    # slurmd from shutting down, and one that outlives it tells the next test cluster's controller "Kill task
    # failed", which drains the node. KillWait (below) bounds the wait.
    if [ -f "$state"/slurmd.pid ]; then
        scancel --user "$(id -un)" 2>/dev/null || true
        for _ in $(seq 1 30); do
            if ! pgrep -x slurmstepd >/dev/null; then break; fi
            sleep 0.5
        done
        pkill -9 -x slurmstepd 2>/dev/null || true
    fi
    if [ ${#pids[@]} -gt 0 ]; then
        kill "${pids[@]}" 2>/dev/null || true
        for _ in $(seq 1 20); do   # up to 10 s for a clean shutdown, then no more
            alive=0
            for pid in "${pids[@]}"; do if kill -0 "$pid" 2>/dev/null; then alive=1; fi; done
            if [ $alive = 0 ]; then exit 0; fi
            sleep 0.5
        done
        kill -9 "${pids[@]}" 2>/dev/null || true
    fi
    exit 0
fi

if command -v sinfo >/dev/null && sinfo -h -o %T 2>/dev/null | grep -q idle; then
    exit 0   # a SLURM is already up here (e.g. started by an earlier test run): use it, and leave it running
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
        || ! command -v sbatch >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge) >/dev/null
fi

mkdir -p "$state"/spool/ctld "$state"/spool/d /etc/slurm /run/munge
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=latentwalk
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=600
KillWait=5
ReturnToService=2
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
cat > /etc/slurm/gres.conf <<CONF
AutoDetect=off
NodeName=localhost Name=gpu File=/dev/null
CONF

if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge && dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
chown munge:munge /run/munge
if ! pgrep -x munged >/dev/null; then
    runuser -u munge -- munged --pid-file=/run/munge/munged.pid
    cp /run/munge/munged.pid "$state"/munged.pid
fi
pkill -9 -x slurmstepd 2>/dev/null || true   # no slurmd runs here: steps left by an earlier test cluster (see stop)
slurmctld -c    # a clean controller state for this test
slurmd
for _ in $(seq 1 60); do
    if sinfo -h -o %T 2>/dev/null | grep -q idle; then exit 0; fi
    sleep 1
done
echo "slurm.sh: the node did not become idle: $(sinfo 2>&1 | tail -1)" >&2
exit 1
