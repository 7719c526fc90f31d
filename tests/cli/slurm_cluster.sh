#!/usr/bin/env bash
# slurm_cluster.sh -- a throw-away, one-node Slurm cluster on loopback, for tests.
#
# Usage:
#   slurm_cluster.sh can-start     exit 0 if this machine can run the cluster,
#                                  else print the reason and exit 1
#   slurm_cluster.sh start DIR     create DIR, start munged + slurmctld + slurmd,
#                                  wait until the node is idle, and print
#                                  `export ...` lines for the client commands:
#                                      eval "$(slurm_cluster.sh start "$dir")"
#   slurm_cluster.sh stop DIR      cancel jobs, stop the daemons started for DIR
#                                  and wait for them to exit (idempotent)
#
# Everything lives under DIR: slurm.conf, munge key/socket/log/pid/seed, the
# slurmctld state, the slurmd spool, daemon logs and pid files, and a job
# completion log (DIR/jobcomp.log, see below).  Nothing is written to /etc,
# /run or /var, so several clusters (different DIRs) can run side by side and
# nothing survives `stop` except DIR itself.
#
# Tested with Debian bookworm packages `slurm-wlm` (22.05) and `munge` (0.5.15),
# run as root without systemd:
#   DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
#       slurm-wlm munge
#
# Cluster layout: one node `localhost` (NodeAddr 127.0.0.1) with CPUs=nproc and
# RealMemory slightly below MemTotal, one partition `w2s` (Default, no time
# limit).  Consumable resource = CPU (select/cons_tres, CR_CPU), so at most
# `nproc` one-CPU tasks run at once.  No accounting database: `sacct` does not
# work.  Finished jobs stay visible to `scontrol show job` for MinJobAge
# seconds, and every finished job (array tasks included) is appended to
# DIR/jobcomp.log (jobcomp/filetxt) with its JobState and ExitCode.
#
# Environment knobs (all optional):
#   W2S_SLURMCTLD_PORT  slurmctld port  (default: a free port from 20000-29999)
#   W2S_SLURMD_PORT     slurmd port     (default: a free port from 30000-39999)
#   W2S_SLURM_CPUS      node CPUs       (default: nproc)
#   W2S_SLURM_MEM_MB    node RealMemory (default: 95% of MemTotal)
#   W2S_SLURM_TIMEOUT   seconds to wait for the node to become idle (default 60)
#
# Observed with 22.05 (for test writers):
#   - start to idle node: ~0.1-1.5 s; jobs submitted in the first ~3 s after
#     start wait for slurmctld's first scheduling pass; after that pending array
#     tasks start within ~1 s of a CPU freeing up.
#   - `scancel JOB_TASK` -> JobState=CANCELLED (ExitCode 0:15); a batch script
#     killed with SIGKILL -> FAILED (ExitCode 0:9); exit 3 -> FAILED (3:0).
#     A killed task can be re-run alone: sbatch --array=2 ... (new job id).
#   - The munged log shows "Unauthorized credential for client UID=0" lines at
#     job launch; they are harmless (jobs run).
#
# Caveats: DIR should be short (unix socket paths are limited to 107 bytes and
# slurmd puts per-step sockets in DIR/spool); DIR is chmod 0755 (munged wants a
# world-searchable socket directory); the daemons run as root.  Processes a job
# moves out of its process group (setsid) are not killed when the job ends.

set -euo pipefail

readonly PROG=${0##*/}
# The daemons live in /usr/sbin, which a non-login PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
readonly NODE=localhost           # NodeName; slurmd is started with -N localhost
readonly PARTITION=w2s

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*" >&2; }   # progress goes to stderr; stdout is for eval

# ---------------------------------------------------------------------------
# can-start: the binaries are installed and we are root.  (The daemons must run
# as root: slurmd starts jobs as the submitting user.  Running this script under
# sudo works; a non-root caller is refused rather than sudo-ing implicitly.)
# ---------------------------------------------------------------------------
can_start() {
    local b missing=()
    for b in munged mungekey slurmctld slurmd sinfo sbatch squeue scontrol scancel; do
        command -v "$b" >/dev/null 2>&1 || missing+=("$b")
    done
    if ((${#missing[@]})); then
        echo "slurm/munge binaries not found: ${missing[*]}" \
             "(apt-get install slurm-wlm munge)"
        return 1
    fi
    if [[ $(id -u) -ne 0 ]]; then
        echo "must run as root to start slurmctld/slurmd/munged (uid $(id -u))"
        return 1
    fi
    return 0
}

# ---------------------------------------------------------------------------
# Port helpers.
# ---------------------------------------------------------------------------
port_in_use() {  # port_in_use PORT -> 0 if something listens on 127.0.0.1:PORT
    local p=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]
    else
        # Fallback: try to connect (bash /dev/tcp); success means "in use".
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
    fi
}

pick_port() {  # pick_port LOW HIGH -> a port nobody listens on
    local lo=$1 hi=$2 p i
    for ((i = 0; i < 200; i++)); do
        p=$((lo + RANDOM % (hi - lo + 1)))
        if ! port_in_use "$p"; then echo "$p"; return 0; fi
    done
    die "no free port found in $lo-$hi"
}

# ---------------------------------------------------------------------------
# Process helpers.  Every daemon is started with W2S_SLURM_CLUSTER=<DIR> in its
# environment; slurmstepd inherits it from slurmd.  `stop` uses that marker to
# find leftovers (e.g. slurmstepd of a running job) without touching processes
# of other clusters.  The marker is never printed for the caller, so the
# caller's shell and the jobs' processes do not carry it.
# ---------------------------------------------------------------------------
pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

read_pid() {  # read_pid FILE -> pid or empty
    if [[ -s $1 ]]; then tr -dc '0-9' <"$1"; fi
}

marked_pids() {  # marked_pids DIR -> pids whose environment holds our marker
    local dir=$1 f pid
    for f in /proc/[0-9]*/environ; do
        pid=${f#/proc/}; pid=${pid%/environ}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        # Kernel threads and vanished processes make the read fail: skip them.
        if { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -qxF "W2S_SLURM_CLUSTER=$dir"; then
            echo "$pid"
        fi
    done
}

wait_gone() {  # wait_gone SECONDS PID... -> 0 when all have exited
    local secs=$1 p alive i
    shift
    for ((i = 0; i < secs * 10; i++)); do
        alive=0
        for p in "$@"; do pid_alive "$p" && alive=1; done
        ((alive)) || return 0
        sleep 0.1
    done
    return 1
}

tail_logs() {  # tail_logs DIR -> the last lines of every daemon log, to stderr
    local f
    for f in "$1"/log/*.log "$1"/munge/munged.log; do
        [[ -f $f ]] || continue
        echo "----- tail of $f -----" >&2
        tail -n 25 "$f" >&2
    done
}

fail_start() {  # fail_start DIR MESSAGE -> show logs, stop what started, exit 1
    log "$2"
    tail_logs "$1"
    stop "$1" >/dev/null 2>&1 || true
    die "slurm cluster in $1 failed to start"
}

# ---------------------------------------------------------------------------
# start DIR
# ---------------------------------------------------------------------------
start() {
    local dir=$1
    local reason
    reason=$(can_start) || die "$reason"

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)          # absolute path, used everywhere below
    local conf=$dir/slurm.conf
    local msock=$dir/munge/munge.socket

    # Refuse to start twice on the same DIR.
    local f
    for f in "$dir"/run/*.pid "$dir"/munge/munged.pid; do
        [[ -f $f ]] || continue
        if pid_alive "$(read_pid "$f")"; then
            die "a cluster already runs in $dir ($f); run '$PROG stop $dir' first"
        fi
    done
    # slurmd creates sockets named DIR/spool/localhost_<job>.<step>; the
    # sun_path limit is 108 bytes including the NUL.
    ((${#dir} <= 70)) || die "DIR path too long for unix sockets (${#dir} > 70): $dir"

    # Fresh state: a leftover from an earlier run of this DIR would bring old
    # jobs and node state back.
    rm -rf "$dir/state" "$dir/spool" "$dir/run" "$dir/log" "$dir/munge"
    mkdir -p "$dir/state" "$dir/spool" "$dir/run" "$dir/log" "$dir/munge"
    # munged wants its socket directory world-executable and not writable by
    # others; the key file must be 0600 and owned by us (mungekey does that).
    chmod 0755 "$dir" "$dir/munge"
    chmod 0700 "$dir/state" "$dir/spool"

    local ctld_port slurmd_port
    ctld_port=${W2S_SLURMCTLD_PORT:-$(pick_port 20000 29999)}
    slurmd_port=${W2S_SLURMD_PORT:-$(pick_port 30000 39999)}
    [[ $ctld_port =~ ^[0-9]+$ && $slurmd_port =~ ^[0-9]+$ ]] ||
        die "bad ports: slurmctld '$ctld_port', slurmd '$slurmd_port'"
    [[ $ctld_port != "$slurmd_port" ]] || die "slurmctld and slurmd ports are equal ($ctld_port)"
    # Ports given by the caller are checked too (slurmctld would die on bind).
    local port
    for port in "$ctld_port" "$slurmd_port"; do
        if port_in_use "$port"; then die "port $port is already in use"; fi
    done
    local cpus=${W2S_SLURM_CPUS:-$(nproc)}
    local mem_mb=${W2S_SLURM_MEM_MB:-$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.95 }' /proc/meminfo)}
    local timeout=${W2S_SLURM_TIMEOUT:-60}
    # A cluster name unique per DIR, lowercase as Slurm wants it.
    local cluster
    cluster=w2s$(printf '%s' "$dir" | cksum | cut -d' ' -f1)

    # --- munge: private key, socket, pid, log and seed under DIR/munge -------
    mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null 2>&1 ||
        dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 0600 "$dir/munge/munge.key"
    # --force: run even if an ancestor of DIR is not world-executable (e.g.
    # mktemp -d gives 0700) and replace a stale socket.  munged forks itself.
    W2S_SLURM_CLUSTER=$dir munged --force \
        --socket="$msock" \
        --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/munge/munged.log" \
        --seed-file="$dir/munge/munged.seed" ||
        fail_start "$dir" "munged failed to start"

    # --- slurm.conf ----------------------------------------------------------
    cat >"$conf" <<EOF
# Generated by $PROG for a private one-node test cluster; see that script.
ClusterName=$cluster
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root

# Private munge daemon (clients read this from slurm.conf too).
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$msock

# State, spool, pids and logs under DIR.
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info

# No cgroups, no accounting (works in containers without systemd).
# proctrack/pgid: at the end of a job slurmstepd kills the job's whole process
# group, so children orphaned by a killed batch script die too (with
# proctrack/linuxproc they escaped); processes that call setsid() escape.
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Every finished job/array task gets one line here (JobState=, ExitCode=).
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.log
MailProg=/bin/true

# Scheduling: one CPU is the unit; memory is not a consumable resource.
SchedulerType=sched/backfill
# Start pending jobs (e.g. the next array tasks) within ~1 s instead of the
# default 3 s batch scheduling delay.
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# Keep finished jobs visible to 'scontrol show job' for 10 minutes.
MinJobAge=600
SlurmdTimeout=60
InactiveLimit=0
KillWait=5

NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    # --- slurmctld and slurmd ------------------------------------------------
    # Without -D both daemons fork and write their pid files.  SLURM_CONF is
    # set for their child processes too.
    W2S_SLURM_CLUSTER=$dir SLURM_CONF=$conf slurmctld -f "$conf" ||
        fail_start "$dir" "slurmctld failed to start"
    W2S_SLURM_CLUSTER=$dir SLURM_CONF=$conf slurmd -f "$conf" -N "$NODE" ||
        fail_start "$dir" "slurmd failed to start"

    # --- wait until the node is idle ----------------------------------------
    # Wall-clock deadline: a client call can block for MessageTimeout (10 s)
    # when slurmctld does not answer, hence also `timeout` on sinfo.  A daemon
    # that died (e.g. could not bind its port) fails the start at once.
    local state="" deadline=$((SECONDS + timeout)) name pidfile
    while ((SECONDS < deadline)); do
        for name in slurmctld slurmd; do
            pidfile=$dir/run/$name.pid
            if ! pid_alive "$(read_pid "$pidfile")"; then
                sleep 0.5   # the pid file may lag the fork by a moment
                pid_alive "$(read_pid "$pidfile")" ||
                    fail_start "$dir" "$name is not running (see its log below)"
            fi
        done
        state=$(SLURM_CONF=$conf timeout 5 sinfo -h -N -n "$NODE" -o '%t' 2>/dev/null || true)
        [[ $state == idle ]] && break
        sleep 0.5
    done
    if [[ $state != idle ]]; then
        SLURM_CONF=$conf scontrol show node "$NODE" >&2 || true
        fail_start "$dir" "node $NODE not idle after ${timeout}s (state: '${state:-no answer}')"
    fi
    log "cluster $cluster up in $dir (slurmctld :$ctld_port, slurmd :$slurmd_port, $cpus CPUs)"

    # Everything a client needs: SLURM_CONF points sinfo/sbatch/squeue/scontrol
    # at the private config, which also names the private munge socket.
    printf 'export SLURM_CONF=%q\n' "$conf"
}

# ---------------------------------------------------------------------------
# stop DIR
# ---------------------------------------------------------------------------
stop() {
    local dir=$1
    [[ -d $dir ]] || return 0
    dir=$(cd "$dir" && pwd -P)
    local conf=$dir/slurm.conf
    local ctld munged slurmd

    ctld=$(read_pid "$dir/run/slurmctld.pid")
    slurmd=$(read_pid "$dir/run/slurmd.pid")
    munged=$(read_pid "$dir/munge/munged.pid")

    # 1. Cancel jobs while the daemons still run, so slurmstepd kills the job
    #    processes cleanly; give them a few seconds.
    if pid_alive "$ctld" && [[ -f $conf ]]; then
        SLURM_CONF=$conf timeout 10 scancel --partition="$PARTITION" >/dev/null 2>&1 || true
        local i
        for ((i = 0; i < 20; i++)); do
            [[ -z $(SLURM_CONF=$conf timeout 5 squeue -h -o '%i' 2>/dev/null) ]] && break
            sleep 0.5
        done
    fi

    # 2. TERM the slurm daemons, then munged (slurm needs munge until the end).
    local p
    for p in "$slurmd" "$ctld"; do
        if pid_alive "$p"; then kill -TERM "$p" 2>/dev/null || true; fi
    done
    if ! wait_gone 15 "$slurmd" "$ctld"; then
        for p in "$slurmd" "$ctld"; do
            if pid_alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
        done
        wait_gone 5 "$slurmd" "$ctld" || true
    fi
    if pid_alive "$munged"; then
        kill -TERM "$munged" 2>/dev/null || true
        if ! wait_gone 10 "$munged"; then
            kill -KILL "$munged" 2>/dev/null || true
            wait_gone 5 "$munged" || true
        fi
    fi

    # 3. Leftovers carrying our marker (slurmstepd of a job that did not die,
    #    daemons whose pid file was lost): KILL them.
    local left
    left=$(marked_pids "$dir" | tr '\n' ' ')
    if [[ -n ${left// /} ]]; then
        # shellcheck disable=SC2086  # word splitting of the pid list is wanted
        kill -KILL $left 2>/dev/null || true
        # shellcheck disable=SC2086
        wait_gone 5 $left || log "warning: processes still alive after KILL: $left"
    fi

    rm -f "$dir/run/"*.pid "$dir/munge/munged.pid" "$dir/munge/munge.socket"
    return 0
}

# ---------------------------------------------------------------------------
main() {
    case ${1:-} in
        can-start)
            can_start ;;
        start)
            [[ $# -eq 2 ]] || die "usage: $PROG start DIR"
            start "$2" ;;
        stop)
            [[ $# -eq 2 ]] || die "usage: $PROG stop DIR"
            stop "$2" ;;
        *)
            echo "usage: $PROG can-start | start DIR | stop DIR" >&2
            exit 2 ;;
    esac
}

main "$@"
