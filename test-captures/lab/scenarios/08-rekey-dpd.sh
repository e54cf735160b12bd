# 08: a long-lived SA with short timers: Quick Mode rekeys every ~8 s, an
# IKE SA re-authentication (new main mode, new cookies) at ~20 s, DPD every
# 3 s from both sides, pings throughout.
scenario() {
	meta_scenario "One IKEv1 main-mode client behind a masquerade NAT with short timers: CHILD_SA rekeyed by a new Quick Mode about every 8 s (new SPIs, same mapping), the IKE SA re-authenticated (a new main mode with new cookies, on 4500) after about 20 s, DPD R-U-THERE/ACK every 3 s of idle, keepalives every 5 s; pings throughout so ESP follows each new SPI."
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

	DPD=3s
	sw_conf srv libipsec; sw_server srv 203.0.113.10
	REKEY=8s LIFE=12s IKE_REKEY=20s
	sw_conf c1 libipsec;  sw_client c1 10.1.0.11 203.0.113.10
	unset DPD REKEY LIFE IKE_REKEY
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	sw_start srv srv; sw_start c1 c1
	cap_wait_ready

	sw_initiate c1 lab
	sw_wait_children c1 1 15 || true
	local i
	for i in $(seq 9); do
		ping_ c1 192.168.200.1 2
		sleep 2
	done
}
