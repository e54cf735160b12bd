# 20: IKE over TCP (RFC 8229) between two libreswan peers through a Linux
# masquerade NAT: the client is configured for TCP (enable-tcp=yes), so the
# whole IKEv2 SA runs on one TCP connection to the server's port 4500. This
# kernel has no espintcp: tools/espintcp-shim.so frames both plutos' TCP
# sockets in user space (the bytes on the wire are what espintcp sends).
# No ESP (no kernel ESP here): IKE_SA_INIT, IKE_AUTH, liveness, delete.
scenario() {
	LAB_CT_TCP=1
	meta_scenario "IKEv2 over TCP (RFC 8229): libreswan 4.10 client 10.1.0.11 behind a Linux masquerade NAT (nat1, 198.51.100.1) to a libreswan 4.10 server 203.0.113.20 listening on TCP 4500 (listen-tcp=yes); the client uses enable-tcp=yes, tcp-remoteport=4500. One TCP connection: the IKETCP prefix, then each IKE message behind a 2-byte length and the non-ESP marker. Both plutos use tools/espintcp-shim.so (user-space framing, no espintcp in this kernel) and the xfrm-shim (no ESP on the wire)."
	ls_fetch
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_wan srv 203.0.113.20
	protected_subnet srv 192.168.200.1/24
	nat_masquerade nat1

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade 198.51.100.1 inside outside
	meta_path inside nat1 outside
	meta_note "IKE over TCP: the SA's IKE runs on one TCP connection (client ephemeral port -> server 4500); natt shows it as the SA's transport."

	ls_tcp_pair c1 srv yes
	meta_daemon srv libreswan right responder
	meta_daemon c1 libreswan left initiator
	ls_start srv srv
	ls_start c1 c1
	cap_wait_ready

	ls_initiate c1
	sleep 14
	_ls_whack c1 --name lab --terminate >/dev/null 2>&1 || true
	sleep 2
}
