# 09: the server behind a NAT on non-standard outside ports.
#   c1: local 4500 -> remote 14500 (nat2 forwards 14500 -> 10.2.0.10:4500):
#       IKE starts on 4500 with the non-ESP marker, never uses 500, works.
#   c2: local 500 -> remote 501 (nat2 forwards 501 -> 10.2.0.10:500): after
#       NAT-D strongSwan floats to the server's port 4500, which nat2 does not
#       forward: ICMP port unreachable, the SA fails.
scenario() {
	meta_scenario "Server behind a NAT on non-standard ports. Client 1 uses local port 4500 and the server's outside port 14500 (forwarded to 4500): the whole SA runs on 4500<->14500 with the non-ESP marker from the first message. Client 2 uses local 500 and outside port 501 (forwarded to 500): after MM4 it floats to the server's 4500, which is not forwarded, the NAT answers ICMP port unreachable and the SA fails."
	wan_create
	router nat2 10.2.0.1/24 203.0.113.1
	host_lan srv nat2 10.2.0.10 10.2.0.1
	protected_subnet srv 192.168.200.1/24
	host_wan c1 198.51.100.11
	host_wan c2 198.51.100.12
	nat_forward nat2 10.2.0.10 14500 4500
	nat_forward nat2 10.2.0.10 501 500
	nat_masquerade nat2

	meta_capture outside nat2 nat2-out
	meta_capture inside nat2 nat2-in
	meta_nat nat2 port-forward 203.0.113.1 inside outside "DNAT udp 14500->10.2.0.10:4500 and 501->10.2.0.10:500; 500 and 4500 are not forwarded"
	meta_path outside nat2 inside

	sw_conf srv libipsec; sw_server srv 10.2.0.10
	LPORT=4500 RPORT=14500
	sw_conf c1 libipsec;  sw_client c1 198.51.100.11 203.0.113.1
	LPORT=500 RPORT=501
	sw_conf c2 libipsec;  sw_client c2 198.51.100.12 203.0.113.1
	unset LPORT RPORT
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	meta_daemon c2 strongswan left initiator
	sw_start srv srv; sw_start c1 c1; sw_start c2 c2
	cap_wait_ready

	sw_initiate c1 lab
	sleep 1
	sw_initiate c2 lab
	sw_wait_children c1 1 15 || true
	ping_ c1 192.168.200.1 3
	sleep 10
	meta_fault float_port_unreachable outside "Client 2 floats to 203.0.113.1:4500, which nat2 does not forward; nat2 answers ICMP port unreachable and MM5 is retransmitted until the initiator gives up" "icmp.type == 3 || (ip.src == 198.51.100.12 && udp.dstport == 4500)"
}
