# 06: IKEv1 aggressive mode (PSK) through a masquerade NAT.
scenario() {
	meta_scenario "IKEv1 aggressive mode (PSK, identities in the clear) from a client behind a Linux masquerade NAT: AM1/AM2 on 500 carry the NAT-D payloads, AM3 already floats to 4500; Quick Mode and ESP-in-UDP on 4500."
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24
	nat_masquerade nat1

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade 198.51.100.1 inside outside
	meta_path inside nat1 outside

	MODE=aggressive
	# strongSwan refuses aggressive mode with PSK unless told otherwise
	local am="i_dont_care_about_security_and_use_aggressive_mode_psk = yes"
	sw_conf srv libipsec "$am"; sw_server srv 203.0.113.10
	sw_conf c1 libipsec "$am";  sw_client c1 10.1.0.11 203.0.113.10
	unset MODE
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	sw_start srv srv; sw_start c1 c1
	cap_wait_ready

	sw_initiate c1 lab
	sw_wait_children c1 1 15 || true
	ping_ c1 192.168.200.1 3
	sleep 11
}
