# 14: a NAT that pins source port 500 for every inside host: the second
# client's main mode collides with the first one's mapping and is dropped.
scenario() {
	meta_scenario "Fault made by the real NAT: SNAT --to-source 198.51.100.1:500 for all UDP from source port 500 (port 500 pinned for every inside host). Client 1 gets the mapping; client 2's MM1 cannot get a unique mapping (conntrack insert_failed/drop) and is retransmitted unanswered on the inside; client 2's SA fails."
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_lan c2 nat1 10.1.0.12 10.1.0.1
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24
	nsx nat1 iptables -t nat -A POSTROUTING -o nat1-out -p udp --sport 500 -j SNAT --to-source 198.51.100.1:500
	nat_masquerade nat1

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 snat-port500-pinned 198.51.100.1 inside outside "SNAT --to-source 198.51.100.1:500 for udp sport 500, MASQUERADE for the rest"
	meta_path inside nat1 outside

	sw_conf srv libipsec; sw_server srv 203.0.113.10
	sw_conf c1 libipsec;  sw_client c1 10.1.0.11 203.0.113.10
	SW_RETRANSMIT_TRIES=3
	sw_conf c2 libipsec;  sw_client c2 10.1.0.12 203.0.113.10
	unset SW_RETRANSMIT_TRIES
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	meta_daemon c2 strongswan left initiator
	sw_start srv srv; sw_start c1 c1; sw_start c2 c2
	cap_wait_ready

	sw_initiate c1 lab
	sleep 2
	sw_initiate c2 lab
	sw_wait_children c1 1 15 || true
	ping_ c1 192.168.200.1 2
	sleep 16
	meta_fault port500_pinned inside "Client 2's MM1 from 10.1.0.12:500 collides with client 1's pinned mapping 198.51.100.1:500 -> 203.0.113.10:500; the NAT drops it (conntrack insert_failed), it is retransmitted and never answered." \
		"ip.src == 10.1.0.12 && isakmp" "SNAT --to-source 198.51.100.1:500; see nat[0].conntrack_stats"
}
