# 12: keepalives blocked at the NAT long enough for the NAT's UDP mapping to
# expire. DPD is slow on both sides, so the keepalives are the only thing
# that keeps the mapping alive.
scenario() {
	meta_scenario "Fault made by the real NAT: the NAT's UDP timeout is 8 s; the client's NAT-T keepalives (every 5 s) keep the mapping alive until the NAT drops all of the client's UDP for 16 s (raw PREROUTING, so conntrack is not refreshed). The mapping expires (conntrack DESTROY); ESP from the server (a ping into the tunnel) to the dead mapping gets ICMP port unreachable from the NAT; after the block the next keepalive creates a new mapping and the server's ESP gets through again."
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24
	nat_masquerade nat1
	nsx nat1 sysctl -qw net.netfilter.nf_conntrack_udp_timeout=8 net.netfilter.nf_conntrack_udp_timeout_stream=8

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade 198.51.100.1 inside outside "nf_conntrack_udp_timeout(_stream) = 8 s; the client's UDP dropped in raw PREROUTING for 16 s"
	meta_path inside nat1 outside

	DPD=60s
	sw_conf srv libipsec; sw_server srv 203.0.113.10
	sw_conf c1 libipsec;  sw_client c1 10.1.0.11 203.0.113.10
	unset DPD
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	sw_start srv srv; sw_start c1 c1
	cap_wait_ready

	sw_initiate c1 lab
	sw_wait_children c1 1 15 || true
	ping_ c1 192.168.200.1 2
	sleep 6
	local t0 t1 t2
	t0=$(now)
	nsx nat1 iptables -t raw -A PREROUTING -i nat1-in -s 10.1.0.11 -p udp -j DROP
	sleep 12
	t2=$(now)
	ping_ srv 10.1.0.11 2          # ESP from the server to the dead mapping
	sleep 3
	nsx nat1 iptables -t raw -D PREROUTING -i nat1-in -s 10.1.0.11 -p udp -j DROP
	t1=$(now)
	sleep 6
	ping_ srv 10.1.0.11 2          # after the next keepalive: through again
	meta_fault keepalive_blocked inside "The client's NAT-T keepalives are dropped by the NAT for 16 s: seen on the inside, missing on the outside." \
		"udpencap.nat_keepalive && ip.src == 10.1.0.11 && frame.time_epoch >= $t0 && frame.time_epoch <= $t1" "UDP from 10.1.0.11 dropped in raw PREROUTING of nat1"
	meta_fault mapping_expired outside "The mapping 10.1.0.11:4500 <-> 198.51.100.1:4500 expired during the block (conntrack DESTROY, see nat[0].mappings[].destroyed); the server's ESP to it gets ICMP port unreachable from the NAT. Frames: the server's ESP to the dead mapping and the ICMP errors." \
		"icmp.type == 3 || (ip.src == 203.0.113.10 && esp && frame.time_epoch >= $t2 && frame.time_epoch <= $t1)" "nf_conntrack_udp_timeout 8 s" "$t0"
}
