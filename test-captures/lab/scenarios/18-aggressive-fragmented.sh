# 18: IKEv1 aggressive mode with 4096-bit RSA certificates and IKE
# fragmentation forced: AM2 (certificate, signature, NAT-D in the clear) is
# larger than strongSwan's fragment size and travels as IKEv1 fragment
# payloads (132), reassembled by the initiator (and by Wireshark's isakmp).
scenario() {
	meta_scenario "IKEv1 aggressive mode with 4096-bit RSA certificates (strongSwan pki) and IKE fragmentation forced, client behind a Linux masquerade NAT: the responder's AM2 (SA, KE, nonce, ID, certificate, signature and the NAT-D payloads, all in the clear) is sent as several IKEv1 FRAGMENTATION payloads (132); its NAT-D hashes are visible only in the reassembled message. Quick Mode and ESP-in-UDP on 4500."
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

	MODE=aggressive AUTH=pubkey FRAG=force SEND_CERT=always
	LCERT=srv.crt; sw_conf srv libipsec; sw_server srv 203.0.113.10
	LCERT=c1.crt;  sw_conf c1 libipsec;  sw_client c1 10.1.0.11 203.0.113.10
	unset MODE AUTH FRAG SEND_CERT LCERT
	sw_rsa_certs srv:server c1:c1
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	sw_start srv srv; sw_start c1 c1
	cap_wait_ready

	sw_initiate c1 lab
	sw_wait_children c1 1 15 || true
	ping_ c1 192.168.200.1 3
	sleep 11
}
