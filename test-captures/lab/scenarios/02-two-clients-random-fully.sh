# 02: as 01, but the NAT remaps every source port (MASQUERADE --random-fully).
scenario() {
	meta_scenario "Two IKEv1 main-mode PSK clients behind one Linux masquerade NAT with --random-fully: every inside port (500 and 4500 of both clients) gets a random outside port. Server outside."
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_lan c2 nat1 10.1.0.12 10.1.0.1
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24
	nat_masquerade nat1 --random-fully

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade-random-fully 198.51.100.1 inside outside
	meta_path inside nat1 outside

	sw_conf srv libipsec; sw_server srv 203.0.113.10
	sw_conf c1 libipsec;  sw_client c1 10.1.0.11 203.0.113.10
	sw_conf c2 libipsec;  sw_client c2 10.1.0.12 203.0.113.10
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
