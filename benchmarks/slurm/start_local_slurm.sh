#!/usr/bin/env bash
# Start a one-node Slurm cluster on this machine, for tests of the study launcher.
#
# Needs root and the Debian packages:  apt-get install -y slurm-wlm munge
# For job accounting (sacct) also:     apt-get install -y slurmdbd mariadb-server
# Safe to run twice: if the cluster already answers, it does nothing.
# Stop it again with benchmarks/slurm/stop_local_slurm.sh.
#
# Why accounting matters: submitit learns a job's state only from sacct. Without
# it, a job that dies without writing its result (scancel, timeout, kill) is never
# seen as finished, and job.result()/job.wait() hang forever.
#
# Settings you may override from the environment:
#   SLURM_PARTITION   name of the one partition (default: debug)
#   SLURM_MEM_MARGIN  MiB of memory kept back from Slurm (default: 1024)
#   SLURM_ACCOUNTING  1 = use slurmdbd + MariaDB, 0 = no accounting,
#                     auto (default) = 1 when slurmdbd and mariadbd are installed
set -euo pipefail

PARTITION="${SLURM_PARTITION:-debug}"
MEM_MARGIN="${SLURM_MEM_MARGIN:-1024}"
ACCOUNTING="${SLURM_ACCOUNTING:-auto}"
if [[ "$ACCOUNTING" == auto ]]; then
    if command -v slurmdbd >/dev/null && command -v mariadbd >/dev/null; then
        ACCOUNTING=1
    else
        ACCOUNTING=0
    fi
fi
NODE="$(hostname -s)"
CONF_DIR=/etc/slurm
LOG_DIR=/var/log/slurm

# Print the node state as sinfo sees it, or nothing if slurmctld does not answer.
node_state() { sinfo -h -o %t 2>/dev/null | tr -d '*~#!%$@^-' || true; }
# True when the node takes jobs (a busy node counts) and, with accounting, sacct answers.
# (sinfo stalls ~10 s when nothing runs, hence the pgrep first.)
cluster_up() {
    pgrep -x slurmctld >/dev/null || return 1
    node_state | grep -qE '^(idle|mix|alloc)$' || return 1
    [[ "$ACCOUNTING" == 0 ]] || sacct -n -X -S now >/dev/null 2>&1
}

# 1. Nothing to do if the cluster is already up.
if cluster_up; then
    echo "Slurm is already up on $NODE."
    exit 0
fi

# 2. Munge: the shared key that Slurm daemons and clients authenticate with.
if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- munged
fi

# 3. Slurm configuration: one node, one partition, no cgroups.
# batch_sched_delay=0 starts a batch job ~0.5 s after sbatch instead of ~1.5 s.
# Memory: what free -m reports, minus a margin (slurmd drains a node that
# claims more memory than it has).
CPUS="$(nproc)"
MEM_TOTAL="$(free -m | awk '/^Mem:/ {print $2}')"
REAL_MEM=$(( MEM_TOTAL > MEM_MARGIN + 512 ? MEM_TOTAL - MEM_MARGIN : MEM_TOTAL / 2 ))
if [[ "$ACCOUNTING" == 1 ]]; then
    ACCT_STORAGE="accounting_storage/slurmdbd"
else
    ACCT_STORAGE="accounting_storage/none"
fi
mkdir -p "$CONF_DIR" "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd
cat > "$CONF_DIR/slurm.conf" <<EOF
# Written by benchmarks/slurm/start_local_slurm.sh; rewritten on each start.
ClusterName=local
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=$ACCT_STORAGE
AccountingStorageHost=localhost
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$REAL_MEM State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

# 4. Accounting: MariaDB (root logs in over its Unix socket, no password) and
# slurmdbd, which keeps the job records that sacct reads.
if [[ "$ACCOUNTING" == 1 ]]; then
    mkdir -p /run/mysqld
    chown mysql:root /run/mysqld
    if ! mariadb-admin ping >/dev/null 2>&1; then
        setsid -f mariadbd --user=mysql --skip-networking </dev/null >/dev/null 2>&1
        for _ in $(seq 30); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 1; done
    fi
    cat > "$CONF_DIR/slurmdbd.conf" <<EOF
# Written by benchmarks/slurm/start_local_slurm.sh; rewritten on each start.
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc=slurm_acct_db
LogFile=$LOG_DIR/slurmdbd.log
PidFile=/run/slurmdbd.pid
EOF
    chmod 0600 "$CONF_DIR/slurmdbd.conf"   # slurmdbd refuses a readable one
    pgrep -x slurmdbd >/dev/null || slurmdbd
    for _ in $(seq 30); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 1; done
fi

# 5. Start the Slurm daemons as root (they fork into the background themselves).
# slurmctld first forgets the node state it saved last time, so the node starts
# as UNKNOWN and turns idle only once slurmd registers (instead of inheriting a
# stale "idle", or a DRAIN from an earlier failed start).
if ! pgrep -x slurmctld >/dev/null; then
    rm -f /var/spool/slurmctld/node_state /var/spool/slurmctld/node_state.old
    slurmctld
fi
pgrep -x slurmd >/dev/null || slurmd

# 6. Wait up to 30 s for the node to report idle.
for _ in $(seq 30); do
    if cluster_up; then
        echo "Slurm is up on $NODE: $CPUS CPUs, ${REAL_MEM} MiB, partition $PARTITION, accounting $([[ $ACCOUNTING == 1 ]] && echo on || echo off)."
        exit 0
    fi
    sleep 1
done

echo "Slurm did not come up within 30 s. sinfo says: $(node_state)" >&2
for log in "$LOG_DIR"/slurmdbd.log "$LOG_DIR"/slurmctld.log "$LOG_DIR"/slurmd.log; do
    [[ -e "$log" ]] || continue
    echo "--- tail of $log ---" >&2
    tail -n 20 "$log" >&2
done
exit 1
