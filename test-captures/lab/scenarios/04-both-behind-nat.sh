# 04: client behind a masquerade NAT, server behind a port-forwarding NAT.
scenario() {
	meta_scenario "Both sides behind NAT: an IKEv1 main-mode PSK client behind nat1 (masquerade, 198.51.100.1), the server behind nat2 (port forward of UDP 500/4500 from 203.0.113.1 to 10.2.0.10). Three captures: client LAN, the public wire, server LAN."
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	router nat2 10.2.0.1/24 203.0.113.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_lan srv nat2 10.2.0.10 10.2.0.1
	protected_subnet srv 192.168.200.1/24
	nat_masquerade nat1
	nat_forward nat2 10.2.0.10 500 500
	nat_forward nat2 10.2.0.10 4500 4500
	nat_masquerade nat2

	meta_capture client-inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_capture server-inside nat2 nat2-in
	meta_nat nat1 masquerade 198.51.100.1 client-inside outside
	meta_nat nat2 port-forward 203.0.113.1 server-inside outside "DNAT udp 500/4500 to 10.2.0.10; its outside capture is the public wire (taken at nat1-out, the same segment)"
	meta_path client-inside nat1 outside nat2 server-inside

	sw_conf srv libipsec; sw_server srv 10.2.0.10
	sw_conf c1 libipsec;  sw_client c1 10.1.0.11 203.0.113.1
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	sw_start srv srv; sw_start c1 c1
	cap_wait_ready

	sw_initiate c1 lab
	sw_wait_children c1 1 15 || true
	ping_ c1 192.168.200.1 3
	sleep 11
	ping_ c1 192.168.200.1 2
}
