# 11: the NAT loses its mapping mid-SA and makes a new one on another port.
# `conntrack -D` of the client's entries plus a --random-fully SNAT rule for
# that client: the same IKE SA and ESP continue from a new outside port; the
# server keeps sending to the old port (the NAT answers ICMP port
# unreachable) until an IKE message (DPD) from the new port moves it.
scenario() {
	meta_scenario "Fault made by the real NAT: the mapping of an established IKEv1 NAT-T SA is flushed mid-SA (conntrack -D) and re-created on a random outside port. ESP and keepalives continue from the new port; the server's ESP still goes to the old port (ICMP port unreachable from the NAT) until the client's next DPD moves the server to the new port."
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24
	nat_masquerade nat1

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade 198.51.100.1 inside outside "at the fault: conntrack -D -s 10.1.0.11 and MASQUERADE --random-fully for 10.1.0.11"
	meta_path inside nat1 outside

	DPD=30s
	sw_conf srv libipsec; sw_server srv 203.0.113.10
	DPD=6s
	sw_conf c1 libipsec;  sw_client c1 10.1.0.11 203.0.113.10
	unset DPD
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	sw_start srv srv; sw_start c1 c1
	cap_wait_ready

	sw_initiate c1 lab
	sw_wait_children c1 1 15 || true
	ping_ c1 192.168.200.1 3
	sleep 1
	local t0; t0=$(now)
	nsx nat1 iptables -t nat -I POSTROUTING -s 10.1.0.11 -o nat1-out -j MASQUERADE --random-fully
	nsx nat1 conntrack -D -p udp -s 10.1.0.11 >/dev/null 2>&1 || true
	ct_dump nat1 after-flush
	local i
	for i in $(seq 6); do ping_ c1 192.168.200.1 2; sleep 1; done
	local newport
	newport=$(nsx nat1 conntrack -L -p udp -s 10.1.0.11 --sport 4500 2>/dev/null | sed -n 's/.*dst=198.51.100.1 sport=[0-9]* dport=\([0-9]*\).*/\1/p' | head -1)
	meta_fault mapping_change outside "The NAT mapping of 10.1.0.11:4500 (outside 198.51.100.1:4500) was flushed mid-SA; the same IKE SA and its ESP continue from 198.51.100.1:${newport:-?}. Frames: the client's packets from the new port, then the NAT's ICMP port unreachable for the server's packets still sent to the old port." \
		"(ip.src == 198.51.100.1 && udp.srcport == ${newport:-0}) || icmp.type == 3" \
		"outside 198.51.100.1:4500 -> 198.51.100.1:${newport:-?} (conntrack, after conntrack -D)" "$t0"
	sleep 4
}
