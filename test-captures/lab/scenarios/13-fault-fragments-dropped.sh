# 13: IKE messages big enough to be IP-fragmented (4096-bit RSA certificates,
# IKE fragmentation off), through a NAT that drops IP fragments.
scenario() {
	meta_scenario "Fault made by a real middlebox: IKEv1 main mode with 4096-bit RSA certificates (strongSwan pki) and IKE fragmentation disabled; MM5 (certificate + signature, on 4500) is larger than the MTU and leaves the client as IP fragments. The NAT drops IP fragments (nftables hook before defragmentation): the fragments are seen on the inside only, MM5 is retransmitted until the initiator gives up; the SA fails."
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24
	nat_masquerade nat1
	# drop every IP fragment arriving from the LAN, before conntrack's
	# defragmentation (priority -400) can reassemble it
	nsx nat1 nft -f - <<'NFT'
table ip fragdrop {
	chain pre {
		type filter hook prerouting priority -450; policy accept;
		iifname "nat1-in" ip frag-off & 0x3fff != 0 counter drop
	}
}
NFT

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade 198.51.100.1 inside outside "drops IP fragments from the LAN (nftables prerouting priority -450)"
	meta_path inside nat1 outside

	AUTH=pubkey FRAG=no SEND_CERT=always
	LCERT=srv.crt; sw_conf srv libipsec; sw_server srv 203.0.113.10
	LCERT=c1.crt;  sw_conf c1 libipsec;  sw_client c1 10.1.0.11 203.0.113.10
	unset AUTH FRAG SEND_CERT LCERT
	sw_rsa_certs srv:server c1:c1
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	SW_RETRANSMIT_TRIES=3
	sw_start srv srv; sw_start c1 c1
	unset SW_RETRANSMIT_TRIES
	cap_wait_ready

	local t0; t0=$(now)
	sw_initiate c1 lab
	sleep 22
	meta_fault fragments_dropped inside "MM5 leaves the client as IP fragments (4096-bit RSA certificate + signature); the NAT drops them: seen on the inside, never on the outside; retransmitted." \
		"ip.flags.mf == 1 || ip.frag_offset > 0" "nftables: iifname nat1-in ip frag-off & 0x3fff != 0 drop"
}
