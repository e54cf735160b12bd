# 17: scenario 01 with forced encapsulation: every daemon uses strongSwan
# 5.9.8's kernel-libipsec as shipped, which fakes its own NAT-D hash.
. "$LAB_DIR/scenarios/01-two-clients-one-nat.sh"
scenario() {
	two_clients_one_nat libipsec-forced "Forced encapsulation through a NAT: every daemon on strongSwan 5.9.8's kernel-libipsec as shipped, which forces UDP encapsulation by sending a random NAT-D hash for its own address: the server's hash mismatches although no NAT translates it, the clients' hashes match neither side of the NAT. Otherwise as 01: "
}
