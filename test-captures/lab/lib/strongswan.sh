# strongswan.sh: one charon per namespace, configured with swanctl (vici).
#
# Each instance gets its own folder $WORK/sw/NAME with strongswan.conf
# (STRONGSWAN_CONF), swanctl/ (SWANCTL_DIR), the vici socket and charon.log,
# and its own /run (a tmpfs in its private mount namespace: charon's pid file
# path is compiled in).
#
# Data plane: this kernel has no ESP. Two modes:
#   libipsec            kernel-libipsec: userspace ESP through a TUN device,
#                       real ESP-in-UDP on the wire, honest NAT-D: a copy of the
#                       plugin whose get_features() does not ask for forced
#                       encapsulation (tools/libipsec-honest.py) is bind-mounted
#                       over the original in charon's mount namespace. Needs a
#                       real NAT on the path (libipsec has no plain ESP).
#   libipsec-forced     the plugin as shipped: strongSwan 5.9.8's libipsec only
#                       does UDP encapsulation, so charon FORCES it: it sends a
#                       random NAT-D hash for its own address and every peer
#                       "sees" a NAT.
#   SW_KERNEL=shim      kernel-netlink + tools/xfrm-shim.so (LD_PRELOAD), which
#                       answers the kernel's "ESP not supported" error with
#                       success. Honest NAT-D, no ESP on the wire.

SW_VERSION=strongswan-5.9.8

sw_conf() {   # sw_conf NAME MODE [extra charon options...]: writes strongswan.conf
	local name=$1 mode=$2 d=$WORK/sw/$1 load
	shift 2
	# a kernel with ESP: no workaround, charon installs real SAs
	[ "${LAB_KERNEL_ESP:-0}" = 1 ] && mode=kernel
	mkdir -p "$d/swanctl/x509" "$d/swanctl/x509ca" "$d/swanctl/private" "$d/swanctl/conf.d"
	load="random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints hmac sha1 sha2 md5 aes gmp kdf curve25519"
	if [ "$mode" = libipsec ] || [ "$mode" = libipsec-forced ]; then
		load="$load kernel-libipsec kernel-netlink socket-default vici"
	else
		load="$load kernel-netlink socket-default vici"
	fi
	echo "$mode" >"$d/mode"
	cat >"$d/strongswan.conf" <<CONF
charon {
	load_modular = no
	load = $load
	install_routes = yes
	keep_alive = ${SW_KEEPALIVE:-5s}
	retransmit_timeout = ${SW_RETRANSMIT_TIMEOUT:-2}
	retransmit_base = ${SW_RETRANSMIT_BASE:-1.5}
	retransmit_tries = ${SW_RETRANSMIT_TRIES:-4}
	half_open_timeout = 15
	$*
	plugins {
		vici { socket = unix://$d/charon.vici }
		socket-default { fwmark = 0x2a }
		kernel-netlink { fwmark = !0x2a }
		kernel-libipsec { allow_peer_ts = yes }
	}
	syslog { daemon { default = -1 } auth { default = -1 } }
	filelog {
		lab {
			path = $d/charon.log
			time_format = %s
			time_precision = us
			ike_name = yes
			flush_line = yes
			append = no
			default = 1
			ike = 4
			chd = 4
			net = 2
			cfg = 2
			knl = 2
			enc = 1
		}
	}
}
CONF
}

# sw_swanctl NAME: swanctl.conf from stdin
sw_swanctl() { cat >"$WORK/sw/$1/swanctl/swanctl.conf"; }

_sw_env() {
	local d=$WORK/sw/$1
	echo "STRONGSWAN_CONF=$d/strongswan.conf SWANCTL_DIR=$d/swanctl"
}
swanctl_() {   # swanctl_ NAME HOSTNS args...
	local name=$1 host=$2 d=$WORK/sw/$1 cmd=$3; shift 3
	nsx "$host" env $(_sw_env "$name") swanctl "$cmd" --uri "unix://$d/charon.vici" "$@"
}

# sw_start NAME HOSTNS: start charon in HOSTNS, load config, start the
# list-sas poller (truth source), returns when loaded.
sw_start() {
	local name=$1 host=$2 d=$WORK/sw/$1 i preload="" honest=""
	[ "$(cat "$d/mode")" = shim ] && preload="LD_PRELOAD=$XFRM_SHIM"
	[ "$(cat "$d/mode")" = libipsec ] && honest="mount --bind $LIBIPSEC_HONEST $LIBIPSEC_PLUGIN && "
	echo "$host" >"$d/host"
	bg "charon-$name" ip netns exec "$(ns "$host")" sh -c \
		"mount -t tmpfs tmpfs /run && $honest exec env $(_sw_env "$name") $preload /usr/lib/ipsec/charon" \
		>"$d/charon.stdout" 2>&1
	echo "$LAST_PID" >"$d/pid"
	for i in $(seq 100); do
		[ -S "$d/charon.vici" ] && break
		sleep 0.1
	done
	[ -S "$d/charon.vici" ] || die "charon $name did not start (see $d)"
	swanctl_ "$name" "$host" --load-all --noprompt >"$d/load.log" 2>&1 || { cat "$d/load.log" >&2; die "swanctl --load-all $name"; }
	bg "sas-$name" bash -c "while :; do echo \"@@ \$(date +%s.%N)\"; \
		ip netns exec $(ns "$host") env $(_sw_env "$name") swanctl --list-sas --pretty --uri unix://$d/charon.vici 2>/dev/null; \
		sleep 0.5; done" >"$d/sas.log"
}

# sw_initiate NAME CHILD|--ike IKE: background initiation (does not block)
sw_initiate() {
	local name=$1 host; host=$(cat "$WORK/sw/$1/host"); shift
	local what=(--child "$1")
	[ "$1" = --ike ] && what=(--ike "$2")
	bg "initiate-$name" ip netns exec "$(ns "$host")" env $(_sw_env "$name") \
		swanctl --initiate --uri "unix://$WORK/sw/$name/charon.vici" "${what[@]}" --timeout 30 \
		>>"$WORK/sw/$name/initiate.log" 2>&1
}

sw_snapshot() {   # final list-sas, and stop the poller
	local name=$1 host; host=$(cat "$WORK/sw/$1/host")
	swanctl_ "$name" "$host" --list-sas --pretty >"$WORK/sw/$name/sas.final" 2>/dev/null || true
	stop_pid "$(grep " sas-$name\$" "$PIDS_FILE" | cut -d' ' -f1)"
}
sw_stop() {
	local name=$1
	stop_pid "$(grep " sas-$name\$" "$PIDS_FILE" | cut -d' ' -f1)"
	stop_pid "$(cat "$WORK/sw/$name/pid")"
}
