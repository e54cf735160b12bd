# 03: the server is behind a NAT that forwards UDP 500 and 4500 to it; the
# clients have public addresses.
scenario() {
	meta_scenario "Server behind a NAT (nat2 port-forwards UDP 500 and 4500 from 203.0.113.1 to 10.2.0.10, plus masquerade), two IKEv1 main-mode PSK clients with public addresses (not NATed)."
	wan_create
	router nat2 10.2.0.1/24 203.0.113.1
	host_lan srv nat2 10.2.0.10 10.2.0.1
	protected_subnet srv 192.168.200.1/24
	host_wan c1 198.51.100.11
	host_wan c2 198.51.100.12
	nat_forward nat2 10.2.0.10 500 500
	nat_forward nat2 10.2.0.10 4500 4500
	nat_masquerade nat2

	meta_capture outside nat2 nat2-out
	meta_capture inside nat2 nat2-in
	meta_nat nat2 port-forward 203.0.113.1 inside outside "DNAT udp 500->10.2.0.10:500, 4500->10.2.0.10:4500; MASQUERADE for the server's own connections"
	meta_path outside nat2 inside

	sw_conf srv libipsec; sw_server srv 10.2.0.10
	sw_conf c1 libipsec;  sw_client c1 198.51.100.11 203.0.113.1
	sw_conf c2 libipsec;  sw_client c2 198.51.100.12 203.0.113.1
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	meta_daemon c2 strongswan left initiator
	sw_start srv srv; sw_start c1 c1; sw_start c2 c2
	cap_wait_ready

	sw_initiate c1 lab
	sleep 1
	sw_initiate c2 lab
	sw_wait_children c1 1 15 || true
	sw_wait_children c2 1 15 || true
	ping_ c1 192.168.200.1 3
	ping_ c2 192.168.200.1 3
	sleep 11
}
