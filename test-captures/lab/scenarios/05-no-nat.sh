# 05: no NAT at all. Both daemons use the kernel XFRM interface through
# tools/xfrm-shim.so (not kernel-libipsec), so that nobody forces UDP
# encapsulation: NAT-D hashes match, IKE stays on 500, no keepalives.
scenario() {
	meta_scenario "No NAT: an IKEv1 main-mode PSK client (198.51.100.11) and the server (203.0.113.10) on the same public wire. NAT-D hashes match, IKE stays on UDP 500, no float, no keepalives. The daemons use kernel XFRM through the xfrm-shim (this kernel has no ESP), so no ESP is on the wire (a normal kernel would send plain ESP, IP protocol 50)."
	wan_create
	host_wan c1 198.51.100.11
	host_wan srv 203.0.113.10
	protected_subnet srv 192.168.200.1/24

	meta_capture wire wan wan
	meta_path wire

	sw_conf srv shim; sw_server srv 203.0.113.10
	sw_conf c1 shim;  sw_client c1 198.51.100.11 203.0.113.10
	meta_daemon srv strongswan right responder
	meta_daemon c1 strongswan left initiator
	meta_note "No ESP frames: the kernel has no ESP; the xfrm-shim makes the daemons believe their SAs are installed."
	sw_start srv srv; sw_start c1 c1
	cap_wait_ready

	sw_initiate c1 lab
	sw_wait_children c1 1 15 || true
	ping_ c1 192.168.200.1 2
	sleep 12
}
