# libreswan.sh: pluto (libreswan 4.10) next to strongSwan.
#
# The Debian packages conflict, so libreswan is only fetched with
# `apt-get download` and unpacked (dpkg -x) into $LS_ROOT. pluto looks for
# its helpers under /usr/libexec/ipsec: each pluto runs in its own mount
# namespace (ip netns exec gives one) with the unpacked usr/libexec bind
# mounted over /usr/libexec and a private /run. Per instance $WORK/ls/NAME
# holds ipsec.conf, ipsec.secrets, the NSS db, the ctl socket and pluto.log.
# This kernel has no ESP: pluto runs with tools/xfrm-shim.so (LD_PRELOAD).

LS_VERSION=libreswan-4.10
LS_ROOT=${LS_ROOT:-/var/cache/natt-lab/libreswan}

ls_fetch() {
	[ -x "$LS_ROOT/usr/libexec/ipsec/pluto" ] && return 0
	local dl; dl=$(dirname "$LS_ROOT")
	mkdir -p "$dl"
	log "fetching libreswan (apt-get download) into $LS_ROOT"
	( cd "$dl" && rm -f libreswan_*.deb && { apt-get download libreswan >/dev/null 2>&1 ||
		{ apt-get update -qq >&2 && apt-get download libreswan >/dev/null 2>&1; }; } ) || die "apt-get download libreswan"
	rm -rf "$LS_ROOT"
	dpkg -x "$dl"/libreswan_*.deb "$LS_ROOT" || die "dpkg -x libreswan"
}

# ls_conf NAME: ipsec.conf from stdin ("config setup" is added here)
ls_conf() {
	local name=$1 d=$WORK/ls/$1
	mkdir -p "$d/nss" "$d/run"
	{
		cat <<CONF
config setup
	ikev1-policy=accept
	keep-alive=${LS_KEEPALIVE:-5}
	virtual-private=%v4:10.0.0.0/8,%v4:192.168.0.0/16,%v4:198.51.100.0/24,%v4:203.0.113.0/24
	plutodebug=base
	uniqueids=no
	dumpdir=$d/run
${LS_SETUP_EXTRA:-}

CONF
		cat
	} >"$d/ipsec.conf"
	echo ": PSK \"$PSK\"" >"$d/ipsec.secrets"
	chmod 600 "$d/ipsec.secrets"
	certutil -N -d "sql:$d/nss" --empty-password >/dev/null 2>&1 || die "certutil -N for $name"
}

_ls_whack() {   # _ls_whack NAME args...
	local name=$1 d=$WORK/ls/$1; shift
	nsx "$(cat "$d/host")" "$LS_ROOT/usr/libexec/ipsec/whack" --ctlsocket "$d/run/pluto.ctl" "$@"
}

# ls_tcp NAME: pluto NAME does IKE over TCP (RFC 8229): this kernel has no
# espintcp, tools/espintcp-shim.so frames its TCP sockets (before xfrm-shim)
ls_tcp() { touch "$WORK/ls/$1/espintcp"; }

# ls_tcp_pair CLIENT SERVER ENABLE_TCP [conn line]: the IKEv2 PSK pair of the
# IKE-over-TCP scenarios (20, 21): CLIENT 10.1.0.11 -> SERVER 203.0.113.20
# (listen-tcp=yes), enable-tcp=ENABLE_TCP (yes | fallback), TCP port 4500,
# both framed by the espintcp shim
ls_tcp_pair() {
	local c=$1 s=$2 enable=$3 extra=${4:-}
	_ls_tcp_conn() {   # left leftid leftsubnet right rightid rightsubnet
		printf 'conn lab\n\tikev2=insist\n\tauthby=secret\n\tleft=%s\n\tleftid=%s\n\tleftsubnet=%s\n' "$1" "$2" "$3"
		printf '\tright=%s\n\trightid=%s\n\trightsubnet=%s\n' "$4" "$5" "$6"
		printf '\tike=aes128-sha2_256;modp2048\n\tesp=aes128-sha2_256\n\tpfs=no\n'
		printf '\tenable-tcp=%s\n\ttcp-remoteport=4500\n' "$enable"
		[ -n "$extra" ] && printf '\t%s\n' "$extra"
		printf '\tdpddelay=5\n\tdpdtimeout=40\n\tleftupdown=/bin/true\n\tauto=add\n'
	}
	_ls_tcp_conn 10.1.0.11 @c1.natt.lab 10.1.0.11/32 203.0.113.20 @server.natt.lab 192.168.200.0/24 | ls_conf "$c"
	_ls_tcp_conn 203.0.113.20 @server.natt.lab 192.168.200.0/24 %any @c1.natt.lab 10.1.0.11/32 |
		LS_SETUP_EXTRA="	listen-tcp=yes" ls_conf "$s"
	ls_tcp "$c"
	ls_tcp "$s"
}

# ls_start NAME HOSTNS [CONN]: start pluto, wait until CONN (default "lab") is loaded
ls_start() {
	local name=$1 host=$2 conn=${3:-lab} d=$WORK/ls/$1 i pre=$XFRM_SHIM
	[ -f "$d/espintcp" ] && pre="$ESPINTCP_SHIM $XFRM_SHIM"
	echo "$host" >"$d/host"
	bg "pluto-$name" ip netns exec "$(ns "$host")" sh -c \
		"mount --bind '$LS_ROOT/usr/libexec' /usr/libexec && mount -t tmpfs tmpfs /run && \
		 exec env $([ "${LAB_KERNEL_ESP:-0}" = 1 ] || echo "LD_PRELOAD='$pre'") '$LS_ROOT/usr/libexec/ipsec/pluto' --nofork \
		 --config '$d/ipsec.conf' --secretsfile '$d/ipsec.secrets' --rundir '$d/run' \
		 --nssdir '$d/nss' --ipsecdir '$d' --logfile '$d/pluto.log' --log-no-append" \
		>"$d/pluto.stdout" 2>&1
	echo "$LAST_PID" >"$d/pid"
	for i in $(seq 100); do
		[ -S "$d/run/pluto.ctl" ] && break
		sleep 0.1
	done
	[ -S "$d/run/pluto.ctl" ] || { cat "$d/pluto.stdout" "$d/pluto.log" >&2 2>/dev/null; die "pluto $name did not start"; }
	# pluto runs "addconn --autoall" itself (auto=add); wait for the conn
	for i in $(seq 50); do
		_ls_whack "$name" --status 2>/dev/null | grep -q "\"$conn\"" && break
		sleep 0.1
	done
	bg "lsstatus-$name" bash -c "while :; do echo \"@@ \$(date +%s.%N)\"; \
		ip netns exec $(ns "$host") $LS_ROOT/usr/libexec/ipsec/whack --ctlsocket $d/run/pluto.ctl --status 2>/dev/null; \
		sleep 0.5; done" >"$d/status.log"
}

ls_initiate() {   # ls_initiate NAME [CONN]
	_ls_whack "$1" --name "${2:-lab}" --initiate --asynchronous >>"$WORK/ls/$1/initiate.log" 2>&1 || true
}

ls_snapshot() {
	local name=$1 d=$WORK/ls/$1
	_ls_whack "$name" --status >"$d/status.final" 2>/dev/null || true
	stop_pid "$(grep " lsstatus-$name\$" "$PIDS_FILE" | cut -d' ' -f1)"
}
ls_stop() {
	local name=$1 d=$WORK/ls/$1
	stop_pid "$(cat "$d/pid")"     # SIGTERM: pluto shuts down cleanly
}
