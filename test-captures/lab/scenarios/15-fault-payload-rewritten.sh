# 15: a middlebox that rewrites a byte of the IKE payload, like a broken
# "IPsec helper": tools/ike-mangle on the NAT router (NFQUEUE in FORWARD,
# before the NAT's own SNAT) flips the first byte of the first NAT-D payload
# of the client's first message that carries one (MM3) and fixes the UDP
# checksum.
scenario() {
	meta_scenario "Fault made by a real middlebox: the NAT router runs a broken 'IPsec helper' (an NFQUEUE program) that flips one byte of the first NAT-D hash in the client's MM3 (the hash of the server's address) and fixes the UDP checksum. The inside capture has the original bytes, the outside one the rewritten byte. The server now believes it is itself behind a NAT; the SA still comes up."
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24
	nat_masquerade nat1
	nsx nat1 iptables -A FORWARD -i nat1-in -o nat1-out -p udp -m multiport --dports 500,4500 \
		-j NFQUEUE --queue-num 7 --queue-bypass
	bg mangle ip netns exec "$(ns nat1)" "$IKE_MANGLE" 7 20 0 1 >"$WORK/mangle.log" 2>"$WORK/mangle.err"

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade 198.51.100.1 inside outside "plus an NFQUEUE 'IPsec helper' (tools/ike-mangle 7 20 0 1) on IKE from the LAN"
	meta_path inside nat1 outside

	sw_conf srv libipsec; sw_server srv 203.0.113.10
	sw_conf c1 libipsec;  sw_client c1 10.1.0.11 203.0.113.10
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	sw_start srv srv; sw_start c1 c1
	cap_wait_ready

	sw_initiate c1 lab
	sw_wait_children c1 1 15 || true
	ping_ c1 192.168.200.1 3
	sleep 10
	local edit t ic
	edit=$(head -1 "$WORK/mangle.log")
	t=$(sed -n 's/^time=\([0-9.]*\) .*/\1/p' <<<"$edit")
	ic=$(sed -n 's/.* icookie=\([0-9a-f]*\) .*/\1/p' <<<"$edit")
	[ -n "$t" ] || die "ike-mangle edited nothing"
	meta_fault payload_rewritten outside "One byte of the first NAT-D payload (type 20) of MM3 was rewritten by the middlebox (XOR 0xFF); the frame here has the rewritten byte, its twin on the inside has the original." \
		"isakmp.ispi == $ic && isakmp.typepayload == 20 && ip.src == 198.51.100.1 && frame.time_epoch >= $t - 0.05 && frame.time_epoch <= $t + 0.05" \
		"ike-mangle: $edit" "" inside \
		"isakmp.ispi == $ic && isakmp.typepayload == 20 && ip.src == 10.1.0.11 && frame.time_epoch >= $t - 0.05 && frame.time_epoch <= $t + 0.05"
}
