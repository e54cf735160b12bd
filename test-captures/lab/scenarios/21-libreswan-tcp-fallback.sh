# 21: the fallback to TCP (RFC 8229): as 20, but the client prefers UDP
# (enable-tcp=fallback) and the NAT drops its forwarded UDP 500/4500: the
# IKE_SA_INIT request on UDP is retransmitted unanswered (seen inside only),
# then pluto opens TCP 4500 and starts a new IKE SA there. This
# kernel has no espintcp: tools/espintcp-shim.so frames both plutos' TCP
# sockets in user space (the bytes on the wire are what espintcp sends).
# No ESP (no kernel ESP here): IKE_SA_INIT, IKE_AUTH, liveness, delete.
scenario() {
	LAB_CT_TCP=1
	meta_scenario "Fallback from UDP to TCP (RFC 8229): the NAT (nat1) drops the client's forwarded UDP 500 and 4500; libreswan 4.10 with enable-tcp=fallback and retransmit-timeout=6s sends IKE_SA_INIT on UDP 500 five times unanswered (visible inside only), then opens TCP 4500 and starts a new IKE SA (new initiator SPI) there. Otherwise as scenario 20: libreswan 4.10 client 10.1.0.11 behind a Linux masquerade NAT (nat1, 198.51.100.1) to a libreswan 4.10 server 203.0.113.20 listening on TCP 4500 (listen-tcp=yes); the client uses enable-tcp=fallback, tcp-remoteport=4500. One TCP connection: the IKETCP prefix, then each IKE message behind a 2-byte length and the non-ESP marker. Both plutos use tools/espintcp-shim.so (user-space framing, no espintcp in this kernel) and the xfrm-shim (no ESP on the wire)."
	ls_fetch
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_wan srv 203.0.113.20
	protected_subnet srv 192.168.200.1/24
	nat_masquerade nat1
	nsx nat1 iptables -A FORWARD -i nat1-in -p udp -m multiport --dports 500,4500 -j DROP

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade 198.51.100.1 inside outside
	meta_path inside nat1 outside
	meta_note "IKE over TCP after a UDP attempt: the UDP IKE SA never gets an answer (the NAT drops it); the TCP SA is a new one of the same peers."
	meta_fault tcp_fallback inside "UDP 500/4500 dropped by the NAT; the client's IKE moved to TCP 4500: the TCP SA's IKE_SA_INIT request" \
		"tcp.dstport == 4500 && tcp.payload[2:4] == 00:00:00:00 && tcp.payload[24] == 22 && tcp.payload[25] == 08" \
		"the unanswered attempt: the IKE_SA_INIT requests on UDP 500 before it" "" outside \
		"tcp.dstport == 4500 && tcp.payload[2:4] == 00:00:00:00 && tcp.payload[24] == 22 && tcp.payload[25] == 08"

	ls_tcp_pair c1 srv fallback retransmit-timeout=6s
	meta_daemon srv libreswan right responder
	meta_daemon c1 libreswan left initiator
	ls_start srv srv
	ls_start c1 c1
	cap_wait_ready

	ls_initiate c1
	sleep 30
	_ls_whack c1 --name lab --terminate >/dev/null 2>&1 || true
	sleep 2
}
