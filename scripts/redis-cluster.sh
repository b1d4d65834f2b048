#!/usr/bin/env bash
# redis-cluster.sh start|stop <dir>
#
# start: runs a throwaway Redis Cluster of 3 masters (REPLICAS=1 adds one replica
# per master) from the machine's redis-server/redis-cli on free 127.0.0.1 ports,
# records each node's PID in <dir>/pids, waits for cluster_state:ok on every node,
# writes the seed list to <dir>/seeds and prints it on stdout:
#   127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3
# stop: kills the nodes by their recorded PIDs (never by name) and removes their data.
#
# Exit codes: 0 ok, 1 failure, 2 redis-server/redis-cli missing (the message names
# the Debian package to install).
set -euo pipefail

usage() { echo "usage: $0 start|stop <dir>" >&2; exit 1; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

log() { echo "redis-cluster: $*" >&2; }

# free_port prints a TCP port on 127.0.0.1 nobody listens on. A port is free when a
# connection to it is refused; ports are drawn at random from a high range to make
# races with other scripts unlikely, and redis-server's own bind is the final check.
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$(( 20000 + RANDOM % 30000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	log "no free port found"
	return 1
}

stop_nodes() {
	[ -f "$dir/pids" ] || return 0
	local pid
	while read -r pid; do
		[ -n "$pid" ] || continue
		kill -9 "$pid" 2>/dev/null || true
	done <"$dir/pids"
	while read -r pid; do
		[ -n "$pid" ] || continue
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	done <"$dir/pids"
	rm -f "$dir/pids" "$dir/seeds" "$dir/ports"
	rm -rf "$dir"/node-*
}

case "$cmd" in
start)
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		echo "redis-cluster: redis-server/redis-cli not found; install the Debian package: apt-get install -y redis-server (redis-tools provides redis-cli)" >&2
		exit 2
	fi
	mkdir -p "$dir"
	if [ -s "$dir/pids" ]; then
		log "$dir/pids exists: a cluster may already run there; stop it first"
		exit 1
	fi
	replicas=${REPLICAS:-0}
	case "$replicas" in 0|1) ;; *) log "REPLICAS must be 0 or 1"; exit 1;; esac
	n=$(( 3 * (1 + replicas) ))
	: >"$dir/pids"
	: >"$dir/ports"
	trap 'stop_nodes' ERR
	nodes=()
	for i in $(seq 1 "$n"); do
		started=0
		for _attempt in 1 2 3 4 5; do
			p=$(free_port)
			mkdir -p "$dir/node-$p"
			redis-server --port "$p" --bind 127.0.0.1 --dir "$dir/node-$p" \
				--cluster-enabled yes --cluster-config-file nodes.conf \
				--cluster-node-timeout 1000 --appendonly no --save '' \
				--logfile "$dir/node-$p/redis.log" --daemonize no \
				>/dev/null 2>&1 &
			pid=$!
			echo "$pid" >>"$dir/pids"
			for _ in $(seq 1 50); do
				if redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1; then started=1; break; fi
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			if [ "$started" = 1 ]; then break; fi
			log "node on port $p did not start; retrying on another port"
			kill -9 "$pid" 2>/dev/null || true
		done
		[ "$started" = 1 ] || { log "could not start node $i"; false; }
		echo "$p" >>"$dir/ports"
		nodes+=("127.0.0.1:$p")
	done
	redis-cli --cluster create "${nodes[@]}" --cluster-replicas "$replicas" --cluster-yes >"$dir/create.log" 2>&1 ||
		{ log "cluster create failed: $(tail -5 "$dir/create.log")"; false; }
	for node in "${nodes[@]}"; do
		p=${node#127.0.0.1:}
		ok=0
		for _ in $(seq 1 150); do
			if redis-cli -h 127.0.0.1 -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; then ok=1; break; fi
			sleep 0.1
		done
		[ "$ok" = 1 ] || { log "node $node never reached cluster_state:ok"; false; }
	done
	if [ "$replicas" = 1 ]; then
		# Failover only works once each replica has synced with its master.
		for node in "${nodes[@]}"; do
			p=${node#127.0.0.1:}
			if redis-cli -h 127.0.0.1 -p "$p" info replication | grep -q '^role:slave'; then
				for _ in $(seq 1 150); do
					redis-cli -h 127.0.0.1 -p "$p" info replication | grep -q '^master_link_status:up' && break
					sleep 0.1
				done
			fi
		done
	fi
	trap - ERR
	seeds=$(IFS=,; echo "${nodes[*]:0:3}")
	echo "$seeds" >"$dir/seeds"
	echo "$seeds"
	;;
stop)
	stop_nodes
	;;
*)
	usage
	;;
esac
