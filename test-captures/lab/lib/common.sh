# common.sh: logging, process bookkeeping, cleanup, dependencies.
# Sourced by ../run. Everything the lab starts is recorded here by PID and
# stopped by PID; every namespace it creates is recorded and deleted.

LAB_DIR=${LAB_DIR:?}
OUT_DIR=${OUT_DIR:?}            # test-captures/
WORK=${WORK:?}                  # scratch folder of this run
RUN_ID=${RUN_ID:?}              # short unique id, part of every namespace name

PIDS_FILE=$WORK/pids            # "pid name" lines, in start order
NETNS_FILE=$WORK/netns          # namespaces this run created
: >"$PIDS_FILE"; : >"$NETNS_FILE"

log()  { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

# bg NAME CMD...: start CMD in the background, remember its PID.
# CMD must exec its final program (ip netns exec, unshare and `sh -c 'exec ..'`
# all keep the PID), so that the PID we store is the daemon's own.
bg() {
	local name=$1; shift
	"$@" </dev/null &
	local pid=$!
	echo "$pid $name" >>"$PIDS_FILE"
	LAST_PID=$pid
}

# stop_pid PID: TERM, wait up to 3 s, then KILL. Only PIDs we started.
stop_pid() {
	local pid=$1 i
	grep -q "^$pid " "$PIDS_FILE" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || { sed -i "/^$pid /d" "$PIDS_FILE"; return 0; }
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	sed -i "/^$pid /d" "$PIDS_FILE" || true
	return 0
}

# stop_all: every PID we started, newest first.
stop_all() {
	local pid name
	for pid in $(tac "$PIDS_FILE" 2>/dev/null | cut -d' ' -f1); do
		stop_pid "$pid" || true
	done
	: >"$PIDS_FILE"
}

netns_add() {
	ip netns add "$1" || die "ip netns add $1"
	echo "$1" >>"$NETNS_FILE"
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
}

netns_del_all() {
	local ns
	for ns in $(tac "$NETNS_FILE" 2>/dev/null); do
		ip netns del "$ns" 2>/dev/null || true
	done
	: >"$NETNS_FILE"
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	stop_all
	netns_del_all
	[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
	exit $rc
}

# ---------------------------------------------------------------- deps
# Debian 12 packages the lab needs (a fresh box gets them with apt-get).
LAB_PKGS="iproute2 iptables nftables conntrack tcpdump tshark wireshark-common
 strongswan-charon strongswan-swanctl strongswan-pki libcharon-extra-plugins
 libstrongswan-extra-plugins python3 jq gcc libc6-dev libnetfilter-queue-dev
 libmnl-dev util-linux procps iputils-ping ethtool bc binutils"
# libreswan's runtime libraries (the package itself conflicts with
# strongSwan, so it is only unpacked, see libreswan.sh).
LIBRESWAN_LIBS="libnss3 libnss3-tools libnspr4 libunbound8 libldns3
 libevent-core-2.1-7 libevent-pthreads-2.1-7 libcap-ng0 libaudit1 libcurl3-nss
 libldap-2.5-0 libpam0g libselinux1 libsystemd0 libcrypt1 dns-root-data"

deps_install() {
	local missing="" p
	for p in $LAB_PKGS $LIBRESWAN_LIBS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		log "installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2 || die "apt-get update failed"
		# no recommends: keep strongswan-starter & friends from starting a
		# system-wide charon outside the namespaces.
		apt-get install -y -qq --no-install-recommends $missing >&2 || die "apt-get install failed"
	fi
	# tshark may ask a debconf question on install; dumpcap works as root.
	command -v dumpcap >/dev/null || die "dumpcap missing (wireshark-common)"
}
