# 16: no NAT, but both strongSwan daemons use kernel-libipsec, which in
# 5.9.8 only does UDP encapsulation and therefore FORCES it: each side sends
# a random NAT-D hash for its own address. Everything floats to 4500 and ESP
# is UDP-encapsulated although nothing is translated.
scenario() {
	meta_scenario "No NAT, forced UDP encapsulation: client 198.51.100.11 and server 203.0.113.10 on the same public wire, both strongSwan with kernel-libipsec, which forces encapsulation by sending a random NAT-D hash for its own address. Each side sees the peer's NAT-D fail (remote \"behind NAT\") although no address is translated: float to 4500 and ESP-in-UDP, but no keepalives (neither side believes itself behind a NAT). natt should see NAT-D mismatches with identical addresses on the wire (forced encapsulation / fake NAT-D)."
	wan_create
	host_wan c1 198.51.100.11
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24

	meta_capture wire wan wan
	meta_path wire

	sw_conf srv libipsec-forced; sw_server srv 203.0.113.10
	sw_conf c1 libipsec-forced;  sw_client c1 198.51.100.11 203.0.113.10
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	sw_start srv srv; sw_start c1 c1
	cap_wait_ready

	sw_initiate c1 lab
	sw_wait_children c1 1 15 || true
	ping_ c1 192.168.200.1 3
	sleep 11
}
