# 02: as 01, but the NAT remaps every source port (MASQUERADE --random-fully).
# One remapped port is pinned: the second client's 500 always leaves on 67
# (DHCP's port, still in the 1-511 range Linux picks for a privileged source
# port). The test suite checks that natt claims IKE on that port where stock
# Wireshark shows DHCP (tests/integration EndpointClaims); before the pin the
# lab's run had happened to draw 67 by chance.
scenario() {
	meta_scenario "Two IKEv1 main-mode PSK clients behind one Linux masquerade NAT with --random-fully: every inside port (500 and 4500 of both clients) gets a random outside port, except the second client's 500, pinned to outside port 67 (which stock Wireshark decodes as DHCP). Server outside."
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_lan c2 nat1 10.1.0.12 10.1.0.1
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24
	nsx nat1 iptables -t nat -A POSTROUTING -o nat1-out -s 10.1.0.12 -p udp --sport 500 -j MASQUERADE --to-ports 67
	nat_masquerade nat1 --random-fully

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade-random-fully 198.51.100.1 inside outside "MASQUERADE --random-fully; 10.1.0.12 udp sport 500 pinned to outside port 67 (MASQUERADE --to-ports 67)"
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
