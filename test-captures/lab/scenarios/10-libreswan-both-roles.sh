# 10: libreswan (pluto) as a client on one side and as a server on the
# other, each paired with strongSwan, both through one masquerade NAT:
#   c1 libreswan  -> srv  strongSwan 203.0.113.10
#   c2 strongSwan -> srv2 libreswan  203.0.113.20
# All four daemons use kernel XFRM through the xfrm-shim (no forced
# encapsulation, honest NAT-D from both implementations; no ESP on the wire).
scenario() {
	meta_scenario "Two independent IKEv1 implementations through one Linux masquerade NAT: a libreswan 4.10 client (10.1.0.11) to a strongSwan server (203.0.113.10), and a strongSwan client (10.1.0.12) to a libreswan server (203.0.113.20). Main mode PSK, NAT-T RFC 3947, float to 4500, Quick Mode, keepalives from both clients, DPD. Every daemon uses kernel XFRM through the xfrm-shim, so NAT-D is honest on both sides and no ESP is on the wire."
	ls_fetch
	wan_create
	router nat1 10.1.0.1/24 198.51.100.1
	host_lan c1 nat1 10.1.0.11 10.1.0.1
	host_lan c2 nat1 10.1.0.12 10.1.0.1
	host_wan srv 203.0.113.10
	host_wan srv2 203.0.113.20
	protected_subnet srv 192.168.200.1/24
	protected_subnet srv2 192.168.200.1/24
	nat_masquerade nat1

	meta_capture inside nat1 nat1-in
	meta_capture outside nat1 nat1-out
	meta_nat nat1 masquerade 198.51.100.1 inside outside
	meta_path inside nat1 outside

	sw_conf srv shim; sw_server srv 203.0.113.10
	sw_conf c2 shim;  sw_client c2 10.1.0.12 203.0.113.20
	ls_conf c1 <<'CONF'
conn lab
	ikev2=no
	authby=secret
	left=10.1.0.11
	leftid=@c1.natt.lab
	leftsubnet=10.1.0.11/32
	right=203.0.113.10
	rightid=@server.natt.lab
	rightsubnet=192.168.200.0/24
	ike=aes128-sha1;modp2048
	esp=aes128-sha1
	pfs=no
	encapsulation=auto
	dpddelay=10
	dpdtimeout=40
	dpdaction=clear
	leftupdown=/bin/true
	auto=add
CONF
	ls_conf srv2 <<'CONF'
conn lab
	ikev2=no
	authby=secret
	left=203.0.113.20
	leftid=@server.natt.lab
	leftsubnet=192.168.200.0/24
	right=%any
	rightsubnet=vhost:%priv,%no
	ike=aes128-sha1;modp2048
	esp=aes128-sha1
	pfs=no
	encapsulation=auto
	dpddelay=10
	dpdtimeout=40
	dpdaction=clear
	leftupdown=/bin/true
	auto=add
CONF
	meta_daemon srv strongswan right responder
	meta_daemon srv2 libreswan right responder
	meta_daemon c1 libreswan left initiator
	meta_daemon c2 strongswan left initiator
	sw_start srv srv
	ls_start srv2 srv2
	ls_start c1 c1
	sw_start c2 c2
	cap_wait_ready

	ls_initiate c1
	sleep 1
	sw_initiate c2 lab
	sw_wait_children c2 1 15 || true
	sleep 14
}
