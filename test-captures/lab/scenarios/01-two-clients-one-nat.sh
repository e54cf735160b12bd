# 01: the classic field case. Two IKEv1 main-mode PSK clients (L2TP-style
# road warriors, here in tunnel mode) behind one Linux N:1 masquerade NAT,
# one server outside. Linux keeps the inside source port when it is free: the
# first client keeps 500/4500 outside, the second one is remapped.
# two_clients_one_nat MODE [DESCRIPTION PREFIX]: MODE is the strongSwan data
# plane (sw_conf); 17 runs the same with libipsec-forced.
two_clients_one_nat() {
	local mode=$1
	meta_scenario "${2:-}Two IKEv1 main-mode PSK clients behind one Linux masquerade (N:1) NAT, server outside. MM1-4 on 500, MM5/6 + Quick Mode on 4500, ESP-in-UDP pings, NAT-T keepalives. The first client keeps its source ports outside, the second is remapped by the NAT."
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_lan c2 nat1 10.1.0.12 10.1.0.1
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24
	nat_masquerade nat1

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade 198.51.100.1 inside outside
	meta_path inside nat1 outside

	sw_conf srv "$mode"; sw_server srv 203.0.113.10
	sw_conf c1 "$mode";  sw_client c1 10.1.0.11 203.0.113.10
	sw_conf c2 "$mode";  sw_client c2 10.1.0.12 203.0.113.10
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	meta_daemon c2 strongswan left initiator
	sw_start srv srv
	sw_start c1 c1
	sw_start c2 c2
	cap_wait_ready

	sw_initiate c1 lab
	sleep 1
	sw_initiate c2 lab
	sw_wait_children c1 1 15 || true
	sw_wait_children c2 1 15 || true
	ping_ c1 192.168.200.1 3
	ping_ c2 192.168.200.1 3
	sleep 13          # keepalives (5 s) and DPD (10 s)
	ping_ c1 192.168.200.1 2
}

scenario() { two_clients_one_nat libipsec; }
