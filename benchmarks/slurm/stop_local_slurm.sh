#!/usr/bin/env bash
# Stop the one-node Slurm cluster started by start_local_slurm.sh.
# All jobs are cancelled first. The job records (MariaDB) stay, so sacct still
# knows old jobs and job ids go on counting after the next start.
set -euo pipefail

# Cancel every job (slurmd going down alone would leave them running), then
# ask slurmctld and slurmd to shut down; skipped when slurmctld is not running.
if pgrep -x slurmctld >/dev/null; then
    squeue -h -o %A 2>/dev/null | xargs -r scancel 2>/dev/null || true
    for _ in $(seq 20); do
        [[ -z "$(squeue -h 2>/dev/null)" ]] && break
        sleep 0.5
    done
    scontrol shutdown 2>/dev/null || true
fi

# True while a process runs (a zombie waiting to be reaped counts as gone).
alive() { [[ "$(ps -o stat= -p "$1" 2>/dev/null)" =~ ^[^Z] ]]; }

# Whatever is still running after that: stop it through its pid file.
for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/slurmdbd.pid /run/munge/munged.pid; do
    [[ -s "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    for _ in $(seq 15); do
        alive "$pid" || break
        kill "$pid" 2>/dev/null || true
        sleep 1
    done
    alive "$pid" && echo "warning: pid $pid from $pidfile is still running" >&2
    rm -f "$pidfile"
done

# MariaDB, if the start script ran it for accounting.
if command -v mariadb-admin >/dev/null && mariadb-admin ping >/dev/null 2>&1; then
    mariadb-admin shutdown
fi
echo "Slurm, munge and MariaDB are stopped."
