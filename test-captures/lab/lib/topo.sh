# topo.sh: namespaces, veths, bridges, routes, NAT rules, captures.
#
# Address plan (only on hosts this lab creates):
#   wan (one bridge, namespace "wan")   198.51.100.0/24 (client side public)
#                                       203.0.113.0/24  (server side public)
#                                       both are on-link for every wan host.
#   nat1 inside LAN  10.1.0.0/24 (router 10.1.0.1, clients .11, .12, ...)
#   nat2 inside LAN  10.2.0.0/24 (router 10.2.0.1, server .10)
#   server protected subnet 192.168.200.0/24 (dummy "lan0", .1)
#
# Capture points: "<nat>-in" (the router's inside bridge) and "<nat>-out"
# (its outside veth), or "wan" (the wan bridge) when there is no NAT.

ns() { echo "nl${RUN_ID}-$1"; }
nsx() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

WAN_PORT=0
wan_create() {
	netns_add "$(ns wan)"
	ip -n "$(ns wan)" link add wan type bridge
	ip -n "$(ns wan)" link set wan up
	nsx wan sysctl -qw net.ipv4.ip_forward=0
}

# _wan_attach NS IFNAME: veth NS:IFNAME <-> wan:pN, enslaved to the wan bridge
_wan_attach() {
	local n=$1 ifn=$2
	WAN_PORT=$((WAN_PORT + 1))
	ip -n "$n" link add "$ifn" type veth peer name "p$WAN_PORT" netns "$(ns wan)"
	ip -n "$(ns wan)" link set "p$WAN_PORT" master wan up
	echo "p$WAN_PORT ${n#nl${RUN_ID}-}" >>"$WORK/wanports"   # wan bridge port -> host (for the wan-any truth)
	ip -n "$n" link set "$ifn" up
	_no_offload "$n" "$ifn"
	_no_offload "$(ns wan)" "p$WAN_PORT"
}
# captures must show real checksums, not the partial ones of tx offload
_no_offload() { ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1 || true; }
_wan_routes() {   # the two public /24 are on-link on the wan
	local n=$1 ifn=$2
	ip -n "$n" route replace 198.51.100.0/24 dev "$ifn"
	ip -n "$n" route replace 203.0.113.0/24 dev "$ifn"
}

# host_wan NAME ADDR: a host directly on the wan (public address)
host_wan() {
	local n; n=$(ns "$1")
	netns_add "$n"
	_wan_attach "$n" eth0
	ip -n "$n" addr add "$2/32" dev eth0
	_wan_routes "$n" eth0
}

# router NAME INSIDE_CIDR(router addr/len) OUTSIDE_ADDR
router() {
	local n; n=$(ns "$1")
	netns_add "$n"
	ip -n "$n" link add "$1-in" type bridge
	ip -n "$n" link set "$1-in" up
	ip -n "$n" addr add "$2" dev "$1-in"
	_wan_attach "$n" "$1-out"
	ip -n "$n" addr add "$3/32" dev "$1-out"
	_wan_routes "$n" "$1-out"
	ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1
	# keep fragments visible on the inside if br_netfilter is loaded
	ip netns exec "$n" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
	# short UDP timeouts: mappings that die are part of some scenarios
	ip netns exec "$n" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=30 \
		net.netfilter.nf_conntrack_udp_timeout_stream=60 2>/dev/null || true
}

# host_lan NAME ROUTER ADDR GW: a host on ROUTER's inside bridge
host_lan() {
	local n r; n=$(ns "$1"); r=$(ns "$2")
	netns_add "$n"
	ip -n "$n" link add eth0 type veth peer name "v-$1" netns "$r"
	ip -n "$r" link set "v-$1" master "$2-in" up
	ip -n "$n" link set eth0 up
	_no_offload "$n" eth0
	_no_offload "$r" "v-$1"
	ip -n "$n" addr add "$3/24" dev eth0
	ip -n "$n" route add default via "$4"
}

# protected_subnet NAME CIDR: a port-less bridge "lan0" (no dummy module here) with the host's inner address
protected_subnet() {
	ip -n "$(ns "$1")" link add lan0 type bridge
	ip -n "$(ns "$1")" link set lan0 up
	ip -n "$(ns "$1")" addr add "$2" dev lan0
}

# nat_masquerade ROUTER [extra MASQUERADE args, e.g. --random-fully]
nat_masquerade() {
	nsx "$1" iptables -t nat -A POSTROUTING -o "$1-out" -j MASQUERADE "${@:2}"
}

# nat_forward ROUTER INSIDE_IP OUT_PORT IN_PORT: UDP port forward
nat_forward() {
	nsx "$1" iptables -t nat -A PREROUTING -i "$1-out" -p udp --dport "$3" \
		-j DNAT --to-destination "$2:$4"
}

# ---------------------------------------------------------------- capture
# cap_start ROLE NSNAME IFACE: dumpcap on IFACE into $WORK/cap/ROLE.pcapng
# (pcapng keeps the interface name, which mergecap keeps in the merged file)
CAP_ROLES=""
cap_start() {
	local role=$1 n; n=$(ns "$2")
	mkdir -p "$WORK/cap"
	bg "dumpcap-$role" ip netns exec "$n" dumpcap -q -i "$3" -s 0 \
		-f "not arp and not ip6 and not igmp" -w "$WORK/cap/$role.pcapng" >/dev/null 2>"$WORK/cap/$role.log"
	CAP_ROLES="$CAP_ROLES $role"
	eval "CAP_PID_${role//-/_}=$LAST_PID"
}
# anycap_start BOX SHAPE: `tcpdump -i any` in BOX's namespace for the whole
# scenario (Linux cooked v2, one sll.ifindex per packet) into
# $WORK/any/BOX.pcap; SHAPE is "nat-any" (a NAT router) or "wan-any" (the wan
# bridge, when there is no NAT). The namespace's links (ifindex -> name,
# kind, master) are saved beside it for the truth file.
ANY_BOXES=""
anycap_start() {
	local box=$1 shape=$2 n; n=$(ns "$1")
	mkdir -p "$WORK/any"
	ip -n "$n" -j -d link show >"$WORK/any/$box.links.json"
	meta --arg b "$box" --arg s "$shape" '{type:"anycap", box:$b, shape:$s}'
	bg "tcpdump-any-$box" ip netns exec "$n" tcpdump -i any -U -n -Z root \
		-w "$WORK/any/$box.pcap" 'ip and not igmp' >/dev/null 2>"$WORK/any/$box.log"
	ANY_BOXES="$ANY_BOXES $box"
	eval "ANY_PID_${box//-/_}=$LAST_PID"
}
cap_wait_ready() {
	local role i box
	for role in $CAP_ROLES; do
		for i in $(seq 50); do
			grep -q "File:" "$WORK/cap/$role.log" 2>/dev/null && break
			sleep 0.1
		done
	done
	for box in $ANY_BOXES; do
		for i in $(seq 50); do
			grep -q "listening on" "$WORK/any/$box.log" 2>/dev/null && break
			sleep 0.1
		done
	done
	sleep 0.3
}
cap_stop_all() {
	local role pid box
	sleep 0.5
	for role in $CAP_ROLES; do
		eval "pid=\$CAP_PID_${role//-/_}"
		stop_pid "$pid"
	done
	for box in $ANY_BOXES; do
		eval "pid=\$ANY_PID_${box//-/_}"
		stop_pid "$pid"
	done
}

# ---------------------------------------------------------------- conntrack
# ct_watch ROUTER: conntrack event log (NEW/UPDATE/DESTROY, with timestamps)
ct_watch() {
	mkdir -p "$WORK/nat"
	bg "conntrack-$1" ip netns exec "$(ns "$1")" conntrack -E -p udp -o timestamp,extended \
		>"$WORK/nat/$1.events" 2>/dev/null
	# LAB_CT_TCP=1 (IKE over TCP scenarios): the NAT's TCP mappings too
	[ "${LAB_CT_TCP:-0}" = 1 ] && bg "conntrack-tcp-$1" ip netns exec "$(ns "$1")" conntrack -E -p tcp \
		-o timestamp,extended >"$WORK/nat/$1.tcp.events" 2>/dev/null
	return 0
}
ct_dump() {   # ct_dump ROUTER TAG: conntrack -L snapshot
	mkdir -p "$WORK/nat"
	{ nsx "$1" conntrack -L -p udp -o extended 2>/dev/null
	  echo "# stats"; nsx "$1" conntrack -S 2>/dev/null; } >"$WORK/nat/$1.$2"
}
